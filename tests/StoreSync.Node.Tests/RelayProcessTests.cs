using StoreSync.Testing.Node;
using StoreSync.Waku.LightPush;
using static StoreSync.Node.Tests.NodeTestPeers;

namespace StoreSync.Node.Tests;

/// <summary>Waku relay between real <c>storesync node</c> processes on loopback (spec/relay.md, "In the node").</summary>
public sealed class RelayProcessTests
{
    /// <summary>Cluster 16 (Status: no RLN), shard 32 (Status' communities).</summary>
    internal const string Topic = "/waku/2/rs/16/32";

    /// <summary>Relay on, store sync off (so what arrives came by relay), one shard of cluster 16.</summary>
    internal static StoreNodeSettings RelayNode(params string[] staticNodes) => new()
    {
        Metrics = true,
        Args = ["--relay", "true", "--cluster-id", "16", "--shard", "32", "--store-sync", "false", .. staticNodes.SelectMany(a => new[] { "--staticnode", a })],
    };

    [Fact]
    public async Task A_message_light_pushed_to_one_end_of_a_line_of_three_relay_nodes_is_stored_once_at_the_other()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = timeout.Token;
        await using var a = await StoreNodeProcess.StartAsync(RelayNode());
        await using var b = await StoreNodeProcess.StartAsync(RelayNode(a.Address));
        await using var c = await StoreNodeProcess.StartAsync(RelayNode(b.Address));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        // The static links carry relay streams: B's mesh holds A and C, A's holds B, C's holds B.
        await WaitForMeshAsync(http, b, 2, ct);
        await WaitForMeshAsync(http, a, 1, ct);
        await WaitForMeshAsync(http, c, 1, ct);

        await using var client = Client();
        var push = new LightPushClient(client);
        const int Count = 5;
        for (int i = 0; i < Count; i++)
        {
            var response = await push.PushAsync(a.Multiaddr, Topic, Message($"relayed {i}"), ct);
            Assert.Equal(200u, response.StatusCode);
            Assert.True(response.HasRelayPeerCount && response.RelayPeerCount >= 1, $"relay peer count {response.RelayPeerCount}");
        }

        var atA = await HashesAsync(http, a, ct);
        Assert.Equal(Count, atA.Count);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<string> atC;
        while ((atC = await HashesAsync(http, c, ct)).Count < Count && DateTime.UtcNow < deadline) await Task.Delay(100, ct);
        Assert.Equal([.. atA.Order()], atC.Order().ToList());

        // Exactly once: C validated each message once (from B, its only peer), stored it once, and heard no copy.
        await Task.Delay(1500, ct);
        var metrics = await http.GetStringAsync(c.Metrics, ct);
        Assert.Equal(Count, Require(metrics, "storesync_relay_messages_total", ("outcome", "accepted"), ("reason", "stored")));
        Assert.Equal(Count, Require(metrics, "storesync_messages_stored_total", ("pubsub_topic", Topic)));
        Assert.Null(Sample(metrics, "storesync_relay_messages_total", ("reason", "duplicate")));
        Assert.Equal(Count, (await HashesAsync(http, c, ct)).Count);
        Assert.Equal(0, await b.TerminateAsync());
        Assert.Contains("Relay ingest stopped", b.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_the_waku_network_preset_a_node_stores_a_light_push_but_publishes_nothing_it_cannot_prove()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = timeout.Token;
        const string Twn = "/waku/2/rs/1/3";
        string[] args = ["--preset", "twn", "--store-sync", "false"];
        await using var a = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Metrics = true, Args = args });
        await using var b = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Metrics = true, Args = [.. args, "--staticnode", a.Address] });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        await WaitForMeshAsync(http, b, 1, ct, Twn);
        await WaitForMeshAsync(http, a, 1, ct, Twn);
        Assert.Contains("RLN rule on", a.Output, StringComparison.Ordinal);

        await using var client = Client();
        var response = await new LightPushClient(client).PushAsync(a.Multiaddr, Twn, Message("unprovable"), ct);
        Assert.Equal(200u, response.StatusCode);
        Assert.False(response.HasRelayPeerCount);
        Assert.Single(await HashesAsync(http, a, ct, Twn));
        var rest = await http.PostAsync(new Uri(a.Rest, $"/relay/v1/messages/{Uri.EscapeDataString(Twn)}"),
            new StringContent("{\"payload\":\"eA==\",\"contentTopic\":\"/app/1/chat/proto\"}", System.Text.Encoding.UTF8, "application/json"), ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, rest.StatusCode);
        Assert.Contains("cannot attach RLN proofs", await rest.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        await Task.Delay(2000, ct);
        Assert.Empty(await HashesAsync(http, b, ct, Twn));
        Assert.Null(Sample(await http.GetStringAsync(b.Metrics, ct), "storesync_relay_messages_total"));
    }

    /// <summary>Waits until the node's gossipsub mesh of <paramref name="topic"/> holds at least <paramref name="peers"/> peers.</summary>
    internal static Task WaitForMeshAsync(HttpClient http, StoreNodeProcess node, int peers, CancellationToken ct, string topic = Topic) =>
        NodeReadings.WaitForMeshAsync(http, node, topic, peers, ct);

    /// <summary>Every stored message hash of <paramref name="topic"/>, through the node's REST store API (duplicates kept, to be counted).</summary>
    internal static Task<List<string>> HashesAsync(HttpClient http, StoreNodeProcess node, CancellationToken ct, string topic = Topic) =>
        NodeReadings.StoredHashesAsync(http, node, topic, ct);
}
