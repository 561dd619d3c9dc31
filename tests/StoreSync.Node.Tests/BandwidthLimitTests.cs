using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using StoreSync.Core;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Testing.Node;
using StoreSync.Waku;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;
using Xunit.Abstractions;

namespace StoreSync.Node.Tests;

/// <summary>Issue 6's bandwidth test: a real node with a 1 MiB/s upload limit serves 20 MiB of history to our Store v3
/// client, paced (not refused), while /health and REST push stay responsive.</summary>
public sealed class BandwidthLimitTests(ITestOutputHelper output) : IDisposable
{
    const int MiB = 1 << 20;
    const string Pubsub = "/waku/2/rs/1/0", Content = "/app/1/history/proto";
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-bandwidth-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Twenty_MiB_at_one_MiB_per_second_takes_at_least_19_s_and_health_stays_responsive()
    {
        // 205 messages of 100 KiB: 20.02 MiB of payload, served in 3 pages of at most 100 messages.
        const int messages = 205, payloadBytes = 100 * 1024;
        var data = Path.Combine(_dir, "data");
        var random = new Random(6);
        var lines = new StringBuilder();
        long ts = 1_760_000_000_000_000_000L;
        for (int i = 0; i < messages; i++)
        {
            var body = new byte[payloadBytes];
            random.NextBytes(body);
            lines.Append($$"""{"pubsubTopic":"{{Pubsub}}","contentTopic":"{{Content}}","payload":"{{Convert.ToBase64String(body)}}","timestamp":{{ts + i * 1_000_000_000L}}}""").Append('\n');
        }
        var file = Path.Combine(_dir, "history.ndjson");
        await File.WriteAllTextAsync(file, lines.ToString());
        var import = await StoresyncProcess.RunAsync(null, "import", file, "--data-dir", data);
        Assert.True(import.ExitCode == 0, import.Stderr);

        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = data, Args = ["--shard", "0", "--upload-limit", MiB.ToString()] });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var address = node.Address;
        using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(30) };

        await using var client = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() });
        var request = new StoreQueryRequest { RequestId = "history", IncludeData = true, PubsubTopic = Pubsub, PaginationForward = true, PaginationLimit = 100 };
        request.ContentTopics.Add(Content);

        // Warm up (JIT of the REST paths in a freshly started process) before measuring responsiveness.
        Assert.True((await http.GetAsync("/health", timeout.Token)).IsSuccessStatusCode);
        Assert.True((await http.PostAsJsonAsync("/lightpush/v3/message", new
        {
            pubsubTopic = Pubsub,
            message = new { payload = "d2FybQ==", contentTopic = "/app/1/live/proto", timestamp = Timestamp.Now() },
        }, timeout.Token)).IsSuccessStatusCode);
        var stopwatch = Stopwatch.StartNew();
        var health = new List<double>();
        var pushes = new List<double>();
        using var transferDone = new CancellationTokenSource();
        var probe = Task.Run(async () =>
        {
            // Bounded: at most 600 rounds of a health check and a realtime push, every 250 ms, while the transfer runs.
            for (int round = 0; round < 600 && !transferDone.IsCancellationRequested; round++)
            {
                var t = Stopwatch.StartNew();
                var h = await http.GetAsync("/health", timeout.Token);
                health.Add(t.Elapsed.TotalSeconds);
                Assert.True(h.IsSuccessStatusCode);
                t.Restart();
                var push = await http.PostAsJsonAsync("/lightpush/v3/message", new
                {
                    pubsubTopic = Pubsub,
                    message = new { payload = Convert.ToBase64String(BitConverter.GetBytes(round)), contentTopic = "/app/1/live/proto", timestamp = Timestamp.Now() },
                }, timeout.Token);
                pushes.Add(t.Elapsed.TotalSeconds);
                Assert.True(push.IsSuccessStatusCode, await push.Content.ReadAsStringAsync());
                try { await Task.Delay(250, transferDone.Token); } catch (OperationCanceledException) { }
            }
        });

        long payload = 0;
        int received = 0, pages = 0;
        await foreach (var page in new StoreQueryClient(client).QueryAllAsync(Multiaddr.Parse(address), request, maxPages: 10, ct: timeout.Token))
        {
            Assert.Equal(WakuStatus.Success, page.StatusCode);
            pages++;
            received += page.Messages.Count;
            payload += page.Messages.Sum(m => (long)m.Message.Payload.Length);
        }
        var elapsed = stopwatch.Elapsed;
        transferDone.Cancel();
        await probe;

        Assert.Equal(messages, received);
        Assert.True(payload >= 20 * MiB);
        output.WriteLine($"served {payload} payload bytes in {pages} pages in {elapsed.TotalSeconds:0.00} s; " +
            $"{health.Count} health checks, max {health.Max() * 1000:0} ms (check {health.IndexOf(health.Max())}), median {health.Order().ElementAt(health.Count / 2) * 1000:0} ms; " +
            $"{pushes.Count} pushes, max {pushes.Max() * 1000:0} ms (push {pushes.IndexOf(pushes.Max())})");
        Assert.True(elapsed >= TimeSpan.FromSeconds(19), $"20 MiB at 1 MiB/s took only {elapsed.TotalSeconds:0.00} s");
        Assert.True(health.Count >= 10, $"only {health.Count} health checks during the transfer");
        Assert.All(health, s => Assert.True(s < 2, $"a health check took {s:0.00} s"));
        Assert.All(pushes, s => Assert.True(s < 2, $"a realtime push took {s:0.00} s"));

        var figures = JsonDocument.Parse(await http.GetStringAsync("/admin/v1/figures", timeout.Token)).RootElement.GetProperty("global");
        Assert.True(figures.GetProperty("upload").GetProperty("historyBytes").GetInt64() >= payload);
        Assert.Equal(MiB, figures.GetProperty("upload").GetProperty("limitBytesPerSecond").GetInt64());
        Assert.True(figures.GetProperty("download").GetProperty("realtimeBytes").GetInt64() > 0);
    }
}
