using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Pubsub.Pb;
using StoreSync.Testing.Interop;
using StoreSync.Testing.Node;
using Xunit.Abstractions;

namespace StoreSync.Interop.Tests.Relay;

/// <summary>Issue 14's proof 5 on a real <c>storesync node</c> process with relay on: a misbehaving js @libp2p/gossipsub
/// peer ends below the graylist threshold (the node's metrics say so), nothing it sent is stored, and an honest js peer's
/// traffic is stored and answered meanwhile.</summary>
public sealed class MisbehavingPeerNodeTests(ITestOutputHelper output)
{
    const string Topic = "/waku/2/rs/16/32";
    const string ContentTopic = "/storesync/1/misbehaving/proto";
    const int Honest = 100, FromNode = 20;

    /// <summary>Messages in one flood RPC: each an undecodable WakuMessage, so each is a P4 (invalid delivery) penalty.</summary>
    const int FloodPerRpc = 250;

    static WakuMessage Fresh(string payload) => new()
    {
        Payload = ByteString.CopyFromUtf8(payload), ContentTopic = ContentTopic, Timestamp = Timestamp.Now(),
    };

    static double Sum(string metrics, string name, params (string Key, string Value)[] labels) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(x => l.Contains($"{x.Key}=\"{x.Value}\"", StringComparison.Ordinal)))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Bounded wait until the node's store holds as many messages as expected, then checks they are exactly those, each once.</summary>
    static async Task AssertStoredAsync(HttpClient http, StoreNodeProcess node, HashSet<MessageHash> expected, CancellationToken ct)
    {
        List<string> stored = [];
        for (int i = 0; i < 300 && (stored = await NodeReadings.StoredHashesAsync(http, node, Topic, ct)).Count < expected.Count; i++) await Task.Delay(200, ct);
        Assert.True(expected.SetEquals(stored.Select(MessageHash.Parse)), $"stored {stored.Count} ({stored.Distinct().Count()} distinct) of {expected.Count}");
        Assert.Equal(expected.Count, stored.Count);
    }

    [Fact]
    public async Task A_misbehaving_js_peer_ends_graylisted_by_a_node_process_which_stores_nothing_of_it_and_all_of_the_honest_peer()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(200));
        var ct = timeout.Token;
        await using var node = await StoreNodeProcess.StartAsync(JsWakuRelayNodeTests.RelayNode());
        await using var honest = await JsGossipsubPeer.StartAsync(ct, wakuValidator: true);
        await using var bad = await JsGossipsubPeer.StartAsync(ct);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        async Task<string> Metrics() => await http.GetStringAsync(node.Metrics, ct);

        foreach (var j in new[] { honest, bad })
        {
            await j.SubscribeAsync(Topic, ct);
            await j.DialAsync(node.Address, ct);
            await j.WaitMeshAsync(Topic, node.PeerId, ct, 30_000);
        }
        await NodeReadings.WaitForMeshAsync(http, node, Topic, 2, ct);
        Assert.Equal(0, NodeReadings.Sample(await Metrics(), "storesync_relay_peers_graylisted"));

        // Honest traffic runs through everything below.
        var honestPublish = honest.PublishWakuDataAsync(Topic, ContentTopic, "honest", Honest, ct, delayMs: 20);

        // Invalid Waku messages: not a WakuMessage protobuf, and one without a content topic: the node's validator rejects them.
        for (int i = 0; i < 3; i++) await bad.PublishAsync(Topic, [0xff, 0xff, 0xff, (byte)i], ct);
        for (int i = 0; i < 3; i++) await bad.PublishAsync(Topic, new WakuMessage { Payload = ByteString.CopyFromUtf8($"no topic {i}"), Timestamp = Timestamp.Now() }.ToByteArray(), ct);
        // Oversized (data above the node's 150 KiB, within its RPC frame limit) and signed (from, seqno, signature under
        // StrictNoSign): valid WakuMessages otherwise, which the router rejects before the validator.
        for (int i = 0; i < 2; i++) await bad.PublishAsync(Topic, Fresh($"big {i} " + new string('x', 160 * 1024)).ToByteArray(), ct);
        var signed = Enumerable.Range(0, 2).Select(i => new RPC
        {
            Publish = { new Message { Topic = Topic, Data = Fresh($"signed {i}").ToByteString(), From = ByteString.CopyFrom(new byte[38]), Seqno = ByteString.CopyFrom(new byte[8]), Signature = ByteString.CopyFrom(new byte[64]) } },
        }.ToByteArray());
        await bad.RawFramesAsync(node.PeerId, signed, ct);
        string metrics = "";
        for (int i = 0; i < 300 && Sum(metrics = await Metrics(), "storesync_relay_gossipsub_messages_total", ("outcome", "rejected")) < 10; i++) await Task.Delay(100, ct);
        Assert.Equal(10, Sum(metrics, "storesync_relay_gossipsub_messages_total", ("outcome", "rejected")));
        Assert.Equal(3, NodeReadings.Sample(metrics, "storesync_relay_messages_total", ("outcome", "rejected"), ("reason", "undecodable")));
        Assert.Equal(3, NodeReadings.Sample(metrics, "storesync_relay_messages_total", ("outcome", "rejected"), ("reason", "no_content_topic")));
        // Ten invalid deliveries: P4 = -100 × 10² is the graylist threshold itself, not below it yet.
        Assert.Equal(0, NodeReadings.Sample(metrics, "storesync_relay_peers_graylisted"));

        // The flood: RPCs of undecodable messages until the node graylists the peer and disconnects it (bounded: 8 RPCs).
        // One RPC carries many so that the score sinks far below the threshold and stays there while it decays (P4 halves every 12 s).
        var flood = new RPC();
        for (int i = 0; i < FloodPerRpc; i++) flood.Publish.Add(new Message { Topic = Topic, Data = ByteString.CopyFrom(0xfe, (byte)(i >> 8), (byte)i) });
        int floods = 0;
        for (; floods < 8 && NodeReadings.Sample(await Metrics(), "storesync_relay_peers_graylisted") < 1; floods++)
        {
            try { await bad.RawFramesAsync(node.PeerId, [flood.ToByteArray()], ct); }
            catch (JsPeerException) { break; } // the node closed the connection under the flood
        }
        for (int i = 0; i < 300 && !node.Output.Contains("below the graylist threshold", StringComparison.Ordinal); i++) await Task.Delay(100, ct);
        Assert.Contains($"Disconnecting pubsub peer {bad.PeerId}", node.Output);
        // The exporter may answer a scrape from its short response cache: read until the gauge shows the graylisting (bounded).
        for (int i = 0; i < 50 && NodeReadings.Sample(metrics = await Metrics(), "storesync_relay_peers_graylisted") < 1; i++) await Task.Delay(100, ct);
        output.WriteLine(string.Join("\n", metrics.Split('\n').Where(l => l.StartsWith("storesync_relay", StringComparison.Ordinal))));
        Assert.Equal(1, NodeReadings.Sample(metrics, "storesync_relay_peers_graylisted"));
        double rejected = Sum(metrics, "storesync_relay_gossipsub_messages_total", ("outcome", "rejected"));
        double undecodable = NodeReadings.Sample(metrics, "storesync_relay_messages_total", ("outcome", "rejected"), ("reason", "undecodable")) ?? 0;
        output.WriteLine($"proof 5 on a node: {floods} flood RPC(s) of {FloodPerRpc}; rejected {rejected} (undecodable {undecodable}), graylisted RPCs "
            + NodeReadings.Sample(metrics, "storesync_relay_graylisted_rpcs_total"));
        // Past the threshold: the flood's invalid deliveries were rejected and counted (more than the one that crossed it).
        Assert.True(rejected > 10 + 1 && undecodable > 3 + 1, $"rejected {rejected}, undecodable {undecodable}");

        // Honest peers keep their traffic: all of js's 100 stored, and nothing of the misbehaving peer (the store holds
        // exactly the honest messages, each once).
        var honestSent = (await honestPublish).Data.Select(d => WakuMessage.Parser.ParseFrom(d)).ToList();
        await AssertStoredAsync(http, node, honestSent.Select(m => MessageHash.Compute(Topic, m)).ToHashSet(), ct);
        Assert.Equal(Honest, NodeReadings.Sample(await Metrics(), "storesync_relay_messages_total", ("outcome", "accepted"), ("reason", "stored")));
        // The node's own 20 (light push, then relay) reach the honest peer, each once, and are stored beside them.
        var fromNode = await RelayMeshNodeTests.PushAsync(node, "from node", ct, FromNode, ContentTopic);
        await AssertStoredAsync(http, node, honestSent.Concat(fromNode).Select(m => MessageHash.Compute(Topic, m)).ToHashSet(), ct);
        var received = await honest.WaitReceivedAsync(Topic, FromNode, ct);
        Assert.True(fromNode.Select(m => MessageHash.Compute(Topic, m)).ToHashSet()
            .SetEquals(received.Data.Select(d => MessageHash.Compute(Topic, WakuMessage.Parser.ParseFrom(d)))), $"js received {received.Data.Count}");
        Assert.Equal(0, received.Duplicates);
        Assert.True(await honest.ScoreAsync(node.PeerId, ct) >= 0);
        Assert.Contains(node.PeerId, await honest.MeshPeersAsync(Topic, ct));
    }
}
