using System.Text.Json;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Testing.Node;
using Xunit.Abstractions;

namespace StoreSync.Node.Tests;

/// <summary>Proof 1 of issue 16: five node processes, each given one bootstrap record (the node started before it), find each
/// other by discv5, the peer manager dials them, and store sync converges their stores to the union; a node restarted with no
/// bootstrap flag at all reconnects from its peer book (DATA-DIR/peers.json) and catches up; relay meshes form.</summary>
/// <remarks>Relay runs on every node (the default) and each forms a mesh on shard 0 with peers the manager dialed; on cluster 1
/// relay forwards nothing (RLN rule), so the messages themselves converge by sync.</remarks>
public sealed class PeerManagerProcessTests(ITestOutputHelper output)
{
    const string Topic = "/waku/2/rs/1/0";
    const int Nodes = 5, PerNode = 3;
    static readonly string[] Flags = ["--shard", "0", "--discv5-discovery", "true", "--discv5-udp-port", "0",
        "--store-sync-interval", "2", "--store-sync-history-interval", "4", "--store-sync-relay-jitter", "0"];

    static Task PushAsync(StoreNodeProcess node, string text, CancellationToken ct) => node.LightPushAsync(Topic, "/peers/1/proof/proto", text, ct);

    static async Task<long> StoredAsync(StoreNodeProcess node, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(30) };
        return JsonDocument.Parse(await http.GetStringAsync("/health", ct)).RootElement.GetProperty("storedMessages").GetInt64();
    }

    static async Task<JsonElement> PeersAsync(StoreNodeProcess node, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(30) };
        return JsonDocument.Parse(await http.GetStringAsync("/admin/v1/figures", ct)).RootElement.GetProperty("global").GetProperty("peers");
    }

    /// <summary>Polls (every 250 ms, within the token) until every node stores <paramref name="expected"/> messages.</summary>
    static async Task WaitForStoresAsync(IReadOnlyList<StoreNodeProcess> nodes, long expected, CancellationToken ct)
    {
        while (true)
        {
            var counts = await Task.WhenAll(nodes.Select(n => StoredAsync(n, ct)));
            if (counts.All(c => c == expected)) return;
            if (ct.IsCancellationRequested)
                Assert.Fail($"stores {string.Join(", ", counts)}, expected {expected} each:\n" + string.Join("\n----\n", nodes.Select(n => n.Output)));
            try { await Task.Delay(250, ct); } catch (OperationCanceledException) { }
        }
    }

    [Fact]
    public async Task Five_nodes_with_one_bootstrap_record_each_find_each_other_and_converge_and_a_restart_reconnects_from_the_book()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(240));
        var nodes = new List<StoreNodeProcess>();
        var dataDirs = Enumerable.Range(0, Nodes).Select(_ => Directory.CreateTempSubdirectory("storesync-peers-").FullName).ToList();
        try
        {
            EnrRecord? previous = null;
            for (int i = 0; i < Nodes; i++)
            {
                string[] bootstrap = previous is null ? [] : ["--discv5-bootstrap-node", previous.ToText()];
                var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = dataDirs[i], Args = [.. Flags, .. bootstrap] });
                nodes.Add(node);
                previous = await node.RecordAsync(cts.Token);
                for (int m = 0; m < PerNode; m++) await PushAsync(node, $"node {i} message {m}", cts.Token);
            }

            using (var converge = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
            {
                converge.CancelAfter(TimeSpan.FromSeconds(120));
                await WaitForStoresAsync(nodes, Nodes * PerNode, converge.Token);
            }
            for (int i = 0; i < Nodes; i++)
            {
                var peers = await PeersAsync(nodes[i], cts.Token);
                output.WriteLine($"node {i}: {peers}");
                // Found by discv5 (node 0 was given no record: others found it and it them), dialed or dialing in.
                Assert.True(peers.GetProperty("bySource").GetProperty("discv5").GetProperty("known").GetInt32() >= 1, $"node {i}: {peers}");
                Assert.True(peers.GetProperty("known").GetInt32() >= 2, $"node {i}: {peers}");
                Assert.True(peers.GetProperty("byCapability").GetProperty("sync").GetProperty("connected").GetInt32() >= 1, $"node {i}: {peers}");
            }
            // Relay meshes on shard 0 (bounded wait: the mesh is built at the heartbeat after a peer subscribes).
            for (int i = 0; i < Nodes; i++)
            {
                int mesh = 0;
                for (int attempt = 0; attempt < 120 && mesh < 1; attempt++)
                {
                    mesh = (await PeersAsync(nodes[i], cts.Token)).GetProperty("relayShards").GetProperty("0").GetProperty("mesh").GetInt32();
                    if (mesh < 1) await Task.Delay(250, cts.Token);
                }
                output.WriteLine($"node {i}: relay mesh on shard 0 has {mesh} peer(s)");
                Assert.True(mesh >= 1, $"node {i} has no relay mesh peer on shard 0:\n{nodes[i].Output}");
            }
            // Most nodes know at least two others through discv5 alone, though each was told of one (or none).
            var discovered = await Task.WhenAll(nodes.Select(async n => (await PeersAsync(n, cts.Token)).GetProperty("bySource").GetProperty("discv5").GetProperty("known").GetInt32()));
            Assert.True(discovered.Count(d => d >= 2) >= Nodes - 1, string.Join(", ", discovered));

            // Restart node 2 with no bootstrap record and no static node: only its peer book can bring it back.
            var restarted = 2;
            int exit = await nodes[restarted].TerminateAsync();
            Assert.True(exit == 0, $"exit {exit}:\n{nodes[restarted].Output}");
            var book = Path.Combine(dataDirs[restarted], "peers.json");
            Assert.True(File.Exists(book));
            using (var saved = JsonDocument.Parse(await File.ReadAllTextAsync(book, cts.Token)))
                Assert.True(saved.RootElement.GetProperty("peers").GetArrayLength() >= 2, await File.ReadAllTextAsync(book, cts.Token));
            await nodes[restarted].DisposeAsync();
            await PushAsync(nodes[0], "while node 2 was down", cts.Token);
            nodes[restarted] = await StoreNodeProcess.StartAsync(new StoreNodeSettings
            {
                DataDir = dataDirs[restarted],
                Args = ["--shard", "0", "--store-sync-interval", "2", "--store-sync-history-interval", "4", "--store-sync-relay-jitter", "0"],
            });
            await nodes[restarted].WaitForOutputAsync("restored from", cts.Token);
            using (var catchUp = CancellationTokenSource.CreateLinkedTokenSource(cts.Token))
            {
                catchUp.CancelAfter(TimeSpan.FromSeconds(60));
                await WaitForStoresAsync(nodes, Nodes * PerNode + 1, catchUp.Token);
            }
            var after = await PeersAsync(nodes[restarted], cts.Token);
            output.WriteLine($"restarted: {after}");
            Assert.True(after.GetProperty("connected").GetInt32() >= 1, after.ToString());
        }
        finally
        {
            foreach (var n in nodes) await n.DisposeAsync();
            foreach (var d in dataDirs)
            {
                try { Directory.Delete(d, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
    }
}
