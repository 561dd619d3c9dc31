using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using StoreSync.Core;
using StoreSync.Libp2p.Identity;
using StoreSync.Storage;

namespace StoreSync.Node.Tests;

/// <summary>Three real <c>storesync node</c> processes that each ingest different messages by REST push, some while the others are
/// down, converge to the same hashes by store sync; a restarted node catches up.</summary>
public sealed partial class StoreSyncProcessTests : IDisposable
{
    const string Topic = "/waku/2/rs/1/0";
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-sync-").FullName;

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

    /// <summary>One node's fixed identity, port and data folder, so the others can name it as a static node before it runs.</summary>
    sealed record NodeSpec(string Name, string DataDir, int TcpPort, PeerId PeerId)
    {
        public string Address => $"/ip4/127.0.0.1/tcp/{TcpPort}/p2p/{PeerId}";
    }

    /// <summary>A running node process; stdout and stderr are kept for the failure message.</summary>
    sealed class RunningNode : IAsyncDisposable
    {
        readonly StringBuilder _log = new();
        public required Process Process { get; init; }
        public required HttpClient Http { get; init; }
        public required NodeSpec Spec { get; init; }

        /// <param name="interval">--store-sync-interval (s); the whole history every twice that.</param>
        /// <param name="metricsPort">0: no metrics server.</param>
        public static async Task<RunningNode> StartAsync(NodeSpec spec, IEnumerable<NodeSpec> peers, int interval = 2, int metricsPort = 0)
        {
            var args = new List<string> { "node", "--data-dir", spec.DataDir, "--tcp-port", spec.TcpPort.ToString(), "--listen-address", "127.0.0.1",
                "--rest-port", "0", "--metrics-server", metricsPort > 0 ? "true" : "false", "--metrics-server-port", metricsPort.ToString(), "--shard", "0",
                "--store-sync-interval", interval.ToString(), "--store-sync-history-interval", (2 * interval).ToString(), "--store-sync-relay-jitter", "0",
                "--store-sync-range", "3600" };
            foreach (var p in peers) { args.Add("--staticnode"); args.Add(p.Address); }
            var process = Process.Start(StoresyncProcess.StartInfo([.. args]))!;
            var log = new StringBuilder();
            _ = Task.Run(async () => { while (await process.StandardError.ReadLineAsync() is { } l) lock (log) log.AppendLine(l); });
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Uri? rest = null;
            try
            {
                while (rest is null)
                {
                    var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException($"{spec.Name} exited: {log}");
                    lock (log) log.AppendLine(line);
                    if (RestLine().Match(line) is { Success: true } m) rest = new Uri(m.Groups[1].Value);
                }
            }
            catch
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            var node = new RunningNode { Process = process, Http = new HttpClient { BaseAddress = rest, Timeout = TimeSpan.FromSeconds(20) }, Spec = spec };
            node._log.Append(log);
            _ = Task.Run(async () => { while (await process.StandardOutput.ReadLineAsync() is { } l) lock (node._log) node._log.AppendLine(l); });
            return node;
        }

        public string Log { get { lock (_log) return _log.ToString(); } }

        public async Task PushAsync(int count, string tag)
        {
            for (int i = 0; i < count; i++)
            {
                var body = new { pubsubTopic = Topic, message = new { payload = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{tag} {i}")), contentTopic = "/app/1/chat/proto", timestamp = Timestamp.Now() } };
                var response = await Http.PostAsJsonAsync("/lightpush/v3/message", body);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        /// <summary>Every stored hash of the topic, paging through the REST store API.</summary>
        public async Task<HashSet<string>> HashesAsync()
        {
            var hashes = new HashSet<string>();
            string? cursor = null;
            for (int page = 0; page < 100; page++)
            {
                var url = $"/store/v3/messages?pubsubTopic={Uri.EscapeDataString(Topic)}&pageSize=100&ascending=true" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
                var root = JsonDocument.Parse(await Http.GetStringAsync(url)).RootElement;
                foreach (var m in root.GetProperty("messages").EnumerateArray()) hashes.Add(m.GetProperty("messageHash").GetString()!);
                if (!root.TryGetProperty("paginationCursor", out var c)) return hashes;
                cursor = c.GetString();
            }
            throw new InvalidOperationException("more than 100 pages");
        }

        public async Task StopAsync()
        {
            if (Process.HasExited) return;
            Assert.Equal(0, kill(Process.Id, 15)); // SIGTERM
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Process.WaitForExitAsync(timeout.Token);
        }

        public async ValueTask DisposeAsync()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
            Http.Dispose();
            Process.Dispose();
        }
    }

    NodeSpec Spec(string name)
    {
        var data = Path.Combine(_dir, name);
        Directory.CreateDirectory(data);
        var key = IdentityKey.LoadOrCreate(Path.Combine(data, "node.key"), KeyType.Secp256k1);
        return new NodeSpec(name, data, FreePort(), key.PeerId);
    }

    static async Task WaitForConvergenceAsync(IReadOnlyList<RunningNode> nodes, int expected, int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var sets = new List<HashSet<string>>();
            foreach (var n in nodes) sets.Add(await n.HashesAsync());
            if (sets.All(s => s.Count == expected && s.SetEquals(sets[0]))) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"not converged in {seconds} s: counts {string.Join(", ", sets.Select(s => s.Count))}, expected {expected}\n" +
                    string.Join("\n---\n", nodes.Select(n => n.Spec.Name + ":\n" + string.Join('\n', n.Log.Split('\n').Where(l => l.Contains("sync", StringComparison.OrdinalIgnoreCase) || l.Contains("Penalised", StringComparison.Ordinal)).TakeLast(25)))));
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task Three_nodes_that_ingested_different_messages_converge_and_a_restarted_node_catches_up()
    {
        NodeSpec a = Spec("a"), b = Spec("b"), c = Spec("c");
        RunningNode? na = null, nb = null, nc = null;
        try
        {
            // a and b run; c is down.
            na = await RunningNode.StartAsync(a, [b, c]);
            nb = await RunningNode.StartAsync(b, [a, c]);
            await na.PushAsync(20, "a1");
            await nb.PushAsync(15, "b1");

            // c comes up with its own messages; a goes down, and b and c take more while it is away.
            nc = await RunningNode.StartAsync(c, [a, b]);
            await nc.PushAsync(10, "c1");
            await WaitForConvergenceAsync([na, nb, nc], 45, 90);
            await na.StopAsync();
            await na.DisposeAsync();
            na = null;
            await nb.PushAsync(7, "b2");
            await nc.PushAsync(8, "c2");
            await WaitForConvergenceAsync([nb, nc], 60, 90);

            // a restarts on its old store and catches up on what it missed.
            na = await RunningNode.StartAsync(a, [b, c]);
            await na.PushAsync(5, "a2");
            await WaitForConvergenceAsync([na, nb, nc], 65, 90);
            Assert.Contains("Store sync with", na.Log);
        }
        finally
        {
            foreach (var n in new[] { na, nb, nc })
            {
                if (n is null) continue;
                await n.StopAsync();
                await n.DisposeAsync();
            }
        }
        foreach (var spec in new[] { a, b, c })
        {
            using var store = MessageStore.Open(spec.DataDir);
            Assert.Equal(65, store.GetStatistics().Messages);
            Assert.Empty(StoreIntegrity.Check(store));
        }
    }

    [Fact]
    public async Task The_sync_index_is_loaded_after_a_clean_stop_and_rebuilt_after_a_kill_and_serves_sync_either_way()
    {
        NodeSpec a = Spec("a"), b = Spec("b");
        RunningNode? na = null, nb = null;
        try
        {
            na = await RunningNode.StartAsync(a, []);
            await na.PushAsync(30, "a1");
            await WaitForLogAsync(na, "messages built from the store");
            await na.StopAsync(); // SIGTERM: the store's close saves the index
            await na.DisposeAsync();
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(a.DataDir, "sync-index"), "*.fpi"));

            na = await RunningNode.StartAsync(a, []);
            await WaitForLogAsync(na, $"Sync index of {Topic}: 30 messages loaded from its saved file");
            await na.PushAsync(12, "a2");
            Assert.Equal(0, kill(na.Process.Id, 9)); // SIGKILL after writes: the saved file is now stale
            await na.Process.WaitForExitAsync();
            await na.DisposeAsync();

            na = await RunningNode.StartAsync(a, [b]);
            await WaitForLogAsync(na, "not used (the store was written since it was saved");
            await WaitForLogAsync(na, $"Sync index of {Topic}: 42 messages built from the store");
            // The rebuilt index serves sync; so does a loaded one (b restarts cleanly below and syncs again).
            nb = await RunningNode.StartAsync(b, [a]);
            await nb.PushAsync(8, "b1");
            await WaitForConvergenceAsync([na, nb], 50, 90);
            await nb.StopAsync();
            await nb.DisposeAsync();
            await na.PushAsync(5, "a3");
            nb = await RunningNode.StartAsync(b, [a]);
            await WaitForLogAsync(nb, $"Sync index of {Topic}: 50 messages loaded from its saved file");
            await WaitForConvergenceAsync([na, nb], 55, 90);
        }
        finally
        {
            foreach (var n in new[] { na, nb })
            {
                if (n is null) continue;
                await n.StopAsync();
                await n.DisposeAsync();
            }
        }
        foreach (var spec in new[] { a, b })
        {
            using var store = MessageStore.Open(spec.DataDir);
            Assert.Equal(55, store.GetStatistics().Messages);
            Assert.Empty(StoreIntegrity.Check(store));
        }
    }

    [Fact]
    public async Task A_discovered_peer_is_synced_at_once_on_connect_and_on_reconnect_with_progress_in_logs_and_metrics()
    {
        // Hour-long intervals: every sync below is one of the immediate ones (start-up, connect, reconnect), never the periodic one.
        const int Hour = 3600;
        NodeSpec a = Spec("a"), b = Spec("b");
        int metricsPort = FreePort();
        RunningNode? na = null, nb = null;
        int Count(string log, string text) => log.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));
        try
        {
            // a knows no store peer: b dials it (b's static node), and a learns from identify that b speaks sync.
            na = await RunningNode.StartAsync(a, [], Hour, metricsPort);
            await na.PushAsync(12, "a1");
            nb = await RunningNode.StartAsync(b, [a], Hour);
            await nb.PushAsync(7, "b1");
            await WaitForConvergenceAsync([na, nb], 19, 90);
            string withB = $"Store sync with {b.PeerId}";
            await WaitForLogAsync(na, withB); // a initiated a sync with the discovered peer
            await WaitForLogAsync(nb, $"Store sync with {a.PeerId}"); // b synced its static peer at start-up
            // Progress: sessions (to fetch, bytes) and transfers (fetched, bytes) in a's log ...
            Assert.Matches(@"Store sync with \S+ \(whole history\): \d+ sessions, \d+ round trips, \d+ to fetch, \d+ sent, [1-9]\d* B out, [1-9]\d* B in", na.Log);
            await WaitForLogAsync(na, $"Transfer from {b.PeerId}: ");
            Assert.Matches(@"Transfer from \S+: [1-9]\d* messages fetched \(\d+ received, [1-9]\d* B\)", na.Log);
            // ... and in its metrics: all 7 of b's messages found missing and fetched, bytes both ways.
            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) })
            {
                var text = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
                double Metric(string name, params (string, string)[] labels) =>
                    NodeTestPeers.Sample(text, name, labels) ?? throw new Xunit.Sdk.XunitException($"no {name} in:\n{string.Join('\n', text.Split('\n').Where(l => l.StartsWith("storesync_sync", StringComparison.Ordinal)))}");
                Assert.Equal(7, Metric("storesync_sync_items_fetched_total"));
                Assert.True(Metric("storesync_sync_items_to_fetch_total") >= 7);
                Assert.True(Metric("storesync_sync_items_sent_total") >= 1);
                foreach (var (protocol, direction) in new[] { ("reconciliation", "in"), ("reconciliation", "out"), ("transfer", "in") })
                    Assert.True(Metric("storesync_sync_bytes_total", ("protocol", protocol), ("direction", direction)) > 0, $"{protocol} {direction}");
                Assert.Equal(19, Metric("storesync_sync_index_messages", ("pubsub_topic", Topic)));
            }

            // b goes away and comes back: a syncs it again as soon as it has reconnected, and b as soon as it has restarted.
            int before = Count(na.Log, withB);
            await nb.StopAsync();
            await nb.DisposeAsync();
            nb = null;
            await na.PushAsync(5, "a2");
            nb = await RunningNode.StartAsync(b, [a], Hour);
            await WaitForConvergenceAsync([na, nb], 24, 90);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Count(na.Log, withB) <= before)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"a did not sync b again after the reconnect:\n{na.Log}");
                await Task.Delay(200);
            }
            await WaitForLogAsync(nb, $"Store sync with {a.PeerId}");
        }
        finally
        {
            foreach (var n in new[] { na, nb })
            {
                if (n is null) continue;
                await n.StopAsync();
                await n.DisposeAsync();
            }
        }
    }

    static async Task WaitForLogAsync(RunningNode node, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!node.Log.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{node.Spec.Name} did not log '{text}' within 30 s:\n{node.Log}");
            await Task.Delay(100);
        }
    }
}
