using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Testing.Interop;
using StoreSync.Testing.Node;
using Xunit.Abstractions;

namespace StoreSync.Interop.Tests.Relay;

/// <summary>Issue 14's proof 4 with js as the gossiper: a js @libp2p/gossipsub peer that holds a message but does not
/// have our <c>storesync node</c> process in its mesh gets it to the node by IHAVE/IWANT.</summary>
public sealed class JsGossipRepairNodeTests(ITestOutputHelper output)
{
    const string Topic = "/waku/2/rs/16/32";
    const string ContentTopic = "/storesync/1/gossip-repair/proto";

    [Fact]
    public async Task A_js_peer_without_the_node_in_its_mesh_repairs_the_nodes_gap_by_ihave_and_iwant()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var ct = timeout.Token;
        // The gossiper's mesh holds one peer at most; the publisher takes that place.
        await using var gossiper = await JsGossipsubPeer.StartAsync(ct, wakuValidator: true, meshDegree: 1);
        await using var publisher = await JsGossipsubPeer.StartAsync(ct, wakuValidator: true);
        await gossiper.SubscribeAsync(Topic, ct);
        await publisher.SubscribeAsync(Topic, ct);
        await publisher.DialAsync(gossiper.Address, ct);
        await gossiper.WaitMeshAsync(Topic, publisher.PeerId, ct, 30_000);
        // The node dials the gossiper (static node): its GRAFT comes from a peer that dialled in, to a full mesh, so the
        // gossiper PRUNEs it (gossipsub keeps D_hi except for outbound peers) and the node backs off. A line
        // publisher – gossiper – node: the publisher never meets the node.
        await using var node = await StoreNodeProcess.StartAsync(JsWakuRelayNodeTests.RelayNode(gossiper.Address));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        for (int i = 0; i < 300 && !(NodeReadings.Sample(await http.GetStringAsync(node.Metrics, ct), "storesync_relay_topic_peers", ("pubsub_topic", Topic)) >= 1); i++)
            await Task.Delay(100, ct);
        for (int i = 0; i < 300 && !(await gossiper.RunAsync("mesh", new { topic = Topic }, ct))["subscribers"]!.AsArray()
            .Any(p => p!.GetValue<string>() == node.PeerId); i++) await Task.Delay(100, ct);
        var meshBefore = await gossiper.MeshPeersAsync(Topic, ct);
        Assert.Equal([publisher.PeerId], meshBefore);

        // Flood publishing: straight to the gossiper, a topic peer, in the mesh or not.
        var sent = await publisher.PublishWakuDataAsync(Topic, ContentTopic, "gossiped", 1, ct);
        var message = WakuMessage.Parser.ParseFrom(sent.Data.Single());
        // The gossiper has it (delivered to its application) and forwarded it to its mesh, which the node was not in.
        var atGossiper = await gossiper.WaitReceivedAsync(Topic, 1, ct);
        var meshAfter = await gossiper.MeshPeersAsync(Topic, ct);
        output.WriteLine($"gossiper's mesh before {string.Join(",", meshBefore)}, after {string.Join(",", meshAfter)}; node {node.PeerId}");
        Assert.Equal(sent.Ids, atGossiper.Ids);
        Assert.DoesNotContain(node.PeerId, meshAfter);

        // The node stores it all the same: its only link is the gossiper, whose mesh it was not in, so it came by IHAVE/IWANT.
        var hash = MessageHash.Compute(Topic, message);
        List<string> stored = [];
        for (int i = 0; i < 150 && (stored = await NodeReadings.StoredHashesAsync(http, node, Topic, ct)).Count < 1; i++) await Task.Delay(200, ct);
        Assert.Equal([hash], stored.Select(MessageHash.Parse));
        var metrics = await http.GetStringAsync(node.Metrics, ct);
        double asked = NodeReadings.Sample(metrics, "storesync_relay_gossipsub_iwant_ids_total") ?? 0;
        output.WriteLine($"node asked for {asked} id(s) by IWANT");
        Assert.True(asked >= 1, "the node asked by IWANT");
        Assert.Equal(1, NodeReadings.Sample(metrics, "storesync_relay_messages_total", ("outcome", "accepted"), ("reason", "stored")));
        var health = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri(node.Rest, "/health"), ct)).RootElement;
        Assert.Equal(1, health.GetProperty("connectedPeers").GetInt32());
    }
}
