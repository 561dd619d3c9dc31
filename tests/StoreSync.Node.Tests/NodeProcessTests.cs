using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using StoreSync.Core;
using StoreSync.Storage;

namespace StoreSync.Node.Tests;

/// <summary>A real <c>storesync node</c> process: REST, metrics, and a SIGTERM that loses nothing.</summary>
public sealed partial class NodeProcessTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-node-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"REST API listening on (http://\S+)")]
    private static partial Regex RestLine();

    [Fact]
    public async Task Rest_push_query_metrics_and_a_clean_sigterm()
    {
        int metricsPort = FreePort();
        var data = Path.Combine(_dir, "data");
        using var process = Process.Start(StoresyncProcess.StartInfo("node", "--data-dir", data, "--rest-port", "0", "--metrics-server-port", metricsPort.ToString(),
            "--tcp-port", "0", "--shard", "0"))!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Uri? rest = null;
            while (rest is null)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("node exited: " + await stderr);
                if (RestLine().Match(line) is { Success: true } m) rest = new Uri(m.Groups[1].Value);
            }
            var drain = Task.Run(async () => { while (await process.StandardOutput.ReadLineAsync() is not null) { } });
            using var http = new HttpClient { BaseAddress = rest, Timeout = TimeSpan.FromSeconds(20) };

            long ts = Timestamp.Now();
            var body = new { pubsubTopic = "/waku/2/rs/1/0", message = new { payload = Convert.ToBase64String("hello"u8.ToArray()), contentTopic = "/app/1/chat/proto", timestamp = ts } };
            var push = await http.PostAsJsonAsync("/lightpush/v3/message", body, timeout.Token);
            Assert.Equal(HttpStatusCode.OK, push.StatusCode);
            var wrongShard = await http.PostAsJsonAsync("/lightpush/v3/message", body with { pubsubTopic = "/waku/2/rs/1/5" }, timeout.Token);
            Assert.Equal(HttpStatusCode.BadRequest, wrongShard.StatusCode);
            Assert.Contains("not served", await wrongShard.Content.ReadAsStringAsync(timeout.Token));

            var page = JsonDocument.Parse(await http.GetStringAsync("/store/v3/messages?pubsubTopic=%2Fwaku%2F2%2Frs%2F1%2F0&contentTopics=%2Fapp%2F1%2Fchat%2Fproto&includeData=true", timeout.Token)).RootElement;
            Assert.Equal(200, page.GetProperty("statusCode").GetInt32());
            var message = Assert.Single(page.GetProperty("messages").EnumerateArray().ToList());
            Assert.Equal(ts, message.GetProperty("message").GetProperty("timestamp").GetInt64());
            Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/store/v3/messages?pageSize=abc", timeout.Token)).StatusCode);

            var health = JsonDocument.Parse(await http.GetStringAsync("/health", timeout.Token)).RootElement;
            Assert.Equal(1, health.GetProperty("storedMessages").GetInt64());

            using var metricsClient = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            var metrics = await metricsClient.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics", timeout.Token);
            Assert.Contains("storesync_messages_stored_total{otel_scope_name=\"StoreSync\",pubsub_topic=\"/waku/2/rs/1/0\"} 1", metrics);
            Assert.Contains("storesync_messages_rejected_total", metrics);

            Assert.Equal(0, kill(process.Id, 15)); // SIGTERM
            await process.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, process.ExitCode);
            await drain;
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        using var store = MessageStore.Open(data);
        Assert.Equal(1, store.GetStatistics().Messages);
        Assert.Empty(StoreIntegrity.Check(store));
    }

    [Fact]
    public async Task Bad_configuration_is_refused_before_anything_starts()
    {
        var result = await StoresyncProcess.RunAsync(null, "node", "--data-dir", Path.Combine(_dir, "d"), "--shard", "5000", "--rest-address", "nowhere");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--shard", result.Stderr);
        Assert.Contains("--rest-address", result.Stderr);
    }
}

/// <summary><c>storesync query --peer</c> against a running node, over Noise and yamux.</summary>
public sealed partial class RemoteQueryTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-remote-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"storesync node listening on (/ip4/\S+)")]
    private static partial Regex ListenLine();

    [Fact]
    public async Task Query_peer_pages_through_a_remote_node_like_a_local_query()
    {
        var data = Path.Combine(_dir, "data");
        var lines = string.Concat(Enumerable.Range(0, 55).Select(i =>
            "{\"pubsubTopic\":\"/waku/2/rs/1/0\",\"contentTopic\":\"/app/1/c/proto\",\"payload\":\"" + Convert.ToBase64String(BitConverter.GetBytes(i)) + "\",\"timestamp\":" + (1_700_000_000_000_000_000L + i) + "}\n"));
        File.WriteAllText(Path.Combine(_dir, "in.ndjson"), lines);
        Assert.Equal(0, (await StoresyncProcess.RunAsync(null, "import", Path.Combine(_dir, "in.ndjson"), "--data-dir", data)).ExitCode);
        var local = await StoresyncProcess.RunAsync(null, "query", "--data-dir", data, "-p", "/waku/2/rs/1/0", "-c", "/app/1/c/proto", "--all", "-n", "10");

        using var process = Process.Start(StoresyncProcess.StartInfo("node", "--data-dir", data, "--tcp-port", "0", "--rest", "false", "--metrics-server", "false"))!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? address = null;
            while (address is null)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("node exited: " + await stderr);
                if (ListenLine().Match(line) is { Success: true } m) address = m.Groups[1].Value;
            }
            _ = Task.Run(async () => { while (await process.StandardOutput.ReadLineAsync() is not null) { } });

            var remote = await StoresyncProcess.RunAsync(null, "query", "--peer", address, "-p", "/waku/2/rs/1/0", "-c", "/app/1/c/proto", "--all", "-n", "10");
            Assert.Equal(0, remote.ExitCode);
            Assert.Equal(local.Stdout, remote.Stdout);
            Assert.Contains("55 messages in 6 pages", remote.Stderr);

            var backward = await StoresyncProcess.RunAsync(null, "query", "--peer", address, "-p", "/waku/2/rs/1/0", "--backward", "-n", "3");
            Assert.Equal(3, JsonDocument.Parse(backward.Stdout).RootElement.GetProperty("messages").GetArrayLength());

            var wrongId = address[..(address.IndexOf("/p2p/", StringComparison.Ordinal) + 5)] + "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";
            var refused = await StoresyncProcess.RunAsync(null, "query", "--peer", wrongId, "-p", "/waku/2/rs/1/0");
            Assert.Equal(1, refused.ExitCode);
            Assert.StartsWith("storesync: error:", refused.Stderr);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
        }
    }
}
