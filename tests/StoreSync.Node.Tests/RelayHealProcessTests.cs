using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Testing.Node;
using StoreSync.Waku;
using StoreSync.Waku.LightPush;
using Xunit.Abstractions;
using static StoreSync.Node.Tests.NodeTestPeers;

namespace StoreSync.Node.Tests;

/// <summary>Issue 14's proof 6 on real <c>storesync node</c> processes: a relay node killed with SIGKILL while messages
/// flow heals its gap by store sync after a restart on its data folder (spec/relay.md, "In the node").</summary>
public sealed class RelayHealProcessTests(ITestOutputHelper output)
{
    const string Topic = RelayProcessTests.Topic;

    /// <summary>Relay and store sync on, one shard of cluster 16; sync every 2 s (whole history every 4 s), no jitter, so a
    /// gap heals within seconds instead of nwaku's 5 minutes.</summary>
    static StoreNodeSettings HealingNode(string? dataDir, params StoreNodeProcess[] staticNodes) => new()
    {
        Metrics = true,
        DataDir = dataDir,
        Args = ["--relay", "true", "--cluster-id", "16", "--shard", "32", "--store-sync", "true", "--store-sync-interval", "2",
            "--store-sync-history-interval", "4", "--store-sync-relay-jitter", "0", "--store-sync-range", "3600",
            .. staticNodes.SelectMany(n => new[] { "--staticnode", n.Address })],
    };

    /// <summary>Light-pushes <paramref name="count"/> messages to <paramref name="node"/> (retrying a rate-limited push at most 50 times).</summary>
    static async Task PushAsync(LightPushClient push, StoreNodeProcess node, string tag, int count, List<WakuMessage> sent, CancellationToken ct)
    {
        for (int i = 0; i < count; i++)
        {
            var m = Message($"{tag} {i}");
            for (int attempt = 0; ; attempt++)
            {
                var response = await push.PushAsync(node.Multiaddr, Topic, m, ct);
                if (response.StatusCode == 200) break;
                Assert.True(response.StatusCode == WakuStatus.TooManyRequests && attempt < 50, $"push {tag} {i}: {response.StatusCode} {response.StatusDesc}");
                await Task.Delay(50, ct);
            }
            sent.Add(m);
            await Task.Delay(20, ct);
        }
    }

    /// <summary>Waits (at most <paramref name="seconds"/>) until the node stores exactly <paramref name="expected"/>, each once.</summary>
    static async Task<List<string>> WaitForAsync(HttpClient http, StoreNodeProcess node, HashSet<MessageHash> expected, int seconds, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        List<string> stored;
        while (!expected.SetEquals((stored = await RelayProcessTests.HashesAsync(http, node, ct)).Select(MessageHash.Parse)) && DateTime.UtcNow < deadline)
            await Task.Delay(250, ct);
        return stored;
    }

    [Fact]
    public async Task A_relay_node_killed_while_messages_flow_heals_its_gap_by_store_sync_after_a_restart_on_its_data_folder()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(240));
        var ct = timeout.Token;
        var cDir = Directory.CreateTempSubdirectory("storesync-relay-heal-").FullName;
        try
        {
            await using var a = await StoreNodeProcess.StartAsync(HealingNode(null));
            await using var b = await StoreNodeProcess.StartAsync(HealingNode(null, a));
            await using var c = await StoreNodeProcess.StartAsync(HealingNode(cDir, a, b));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            // A triangle: each mesh holds the other two.
            foreach (var n in new[] { a, b, c }) await RelayProcessTests.WaitForMeshAsync(http, n, 2, ct);

            await using var client = Client();
            var push = new LightPushClient(client);
            var sent = new List<WakuMessage>();
            const int Before = 30, During = 30, After = 20;

            // Messages flow into A; C is killed (SIGKILL, nothing flushed) while they do.
            var flowing = PushAsync(push, a, "before", Before, sent, ct);
            while (sent.Count < Before / 2) await Task.Delay(10, ct);
            c.Kill();
            await c.WaitForExitAsync();
            await flowing;
            await PushAsync(push, a, "during", During, sent, ct);

            // The other two go on: each stores every message so far, each once.
            var sofar = sent.Select(m => MessageHash.Compute(Topic, m)).ToHashSet();
            foreach (var n in new[] { a, b })
            {
                var stored = await WaitForAsync(http, n, sofar, 60, ct);
                Assert.True(sofar.SetEquals(stored.Select(MessageHash.Parse)), $"{n.PeerId} stores {stored.Count} of {sofar.Count} while C is down");
                Assert.Equal(sofar.Count, stored.Count);
            }

            // C restarts on its data folder (same key, so the same peer id) and dials A and B again.
            await using var c2 = await StoreNodeProcess.StartAsync(HealingNode(cDir, a, b));
            Assert.Equal(c.PeerId, c2.PeerId);
            await RelayProcessTests.WaitForMeshAsync(http, c2, 2, ct);
            await PushAsync(push, a, "after", After, sent, ct);

            var all = sent.Select(m => MessageHash.Compute(Topic, m)).ToHashSet();
            Assert.Equal(Before + During + After, all.Count);
            foreach (var n in new[] { a, b, c2 })
            {
                var stored = await WaitForAsync(http, n, all, 90, ct);
                Assert.True(all.SetEquals(stored.Select(MessageHash.Parse)),
                    $"{n.PeerId} stores {stored.Count} ({stored.Distinct().Count()} distinct) of {all.Count}\n{(n == c2 ? c2.Output : "")}");
                Assert.Equal(all.Count, stored.Count);
            }

            // The gap came back by store sync: C's second life fetched by transfer what relay never brought it (at least what
            // was published while it was down, minus what gossip's 3-heartbeat message cache could still offer it).
            var metrics = await http.GetStringAsync(c2.Metrics, ct);
            double fetched = Require(metrics, "storesync_sync_items_fetched_total");
            double relayed = Sample(metrics, "storesync_relay_messages_total", ("outcome", "accepted"), ("reason", "stored")) ?? 0;
            output.WriteLine($"C second life: {fetched} fetched by store sync, {relayed} stored from relay");
            Assert.True(fetched >= 1, $"fetched {fetched}, relayed {relayed}");
            Assert.True(fetched + relayed >= all.Count - Before, $"fetched {fetched} + relayed {relayed} < {all.Count - Before}");
            Assert.Null(Sample(metrics, "storesync_relay_messages_total", ("outcome", "rejected")));
            Assert.Equal(0, await c2.TerminateAsync());
        }
        finally
        {
            try { Directory.Delete(cDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
