using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Pubsub.Pb;
using StoreSync.Testing;
using StoreSync.Testing.Interop;

namespace StoreSync.Interop.Tests.Pubsub;

/// <summary>
/// Issue 14's proofs 3 and 5 with Waku relay as the node composes it (our router, validator, group commit, RocksDB) in
/// this process, against js @libp2p/gossipsub 17 processes configured as js-waku's relay.
/// </summary>
public sealed class RelayMeshInteropTests : IDisposable
{
    const string Topic = "/waku/2/rs/16/32";
    const string ContentTopic = "/storesync/1/relay-interop/proto";
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(150));
    CancellationToken Ct => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    static WakuMessage Fresh(string payload) => new()
    {
        Payload = ByteString.CopyFromUtf8(payload), ContentTopic = ContentTopic, Timestamp = Timestamp.Now(),
    };

    static string Id(byte[] data) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));

    static async Task<List<WakuMessage>> PublishOursAsync(OurRelayNode node, string prefix, int count, CancellationToken ct)
    {
        var sent = new List<WakuMessage>();
        for (int i = 0; i < count; i++)
        {
            var m = Fresh($"{prefix} {i}");
            await node.Relay.PublishAsync(Topic, m, ct);
            sent.Add(m);
        }
        return sent;
    }

    async Task WaitMeshAsync(OurRelayNode node, params string[] peers) =>
        await Polling.WaitUntil(() => peers.All(p => node.Router.InMesh(Topic, p)), $"{node.Router.PeerId} meshed with {peers.Length} peers", 30);

    [Fact]
    public async Task Three_of_our_relays_and_two_js_peers_each_publish_200_and_every_store_ends_with_all_1000_once()
    {
        var ours = new List<OurRelayNode>();
        var js = new List<JsGossipsubPeer>();
        try
        {
            for (int i = 0; i < 3; i++) ours.Add(await OurRelayNode.StartAsync(Topic, Ct));
            for (int i = 0; i < 2; i++) js.Add(await JsGossipsubPeer.StartAsync(Ct, wakuValidator: true));
            var (a, b, c) = (ours[0], ours[1], ours[2]);
            // Our three in a triangle; js 0 on a and b, js 1 on b and c: every message crosses js and our links.
            await a.Router.DialAsync(b.Router.Address, Ct);
            await b.Router.DialAsync(c.Router.Address, Ct);
            await c.Router.DialAsync(a.Router.Address, Ct);
            foreach (var j in js) await j.SubscribeAsync(Topic, Ct);
            foreach (var (j, targets) in new[] { (js[0], new[] { a, b }), (js[1], new[] { b, c }) })
                foreach (var t in targets)
                {
                    await j.DialAsync(t.Router.Address, Ct);
                    await j.WaitMeshAsync(Topic, t.Router.PeerId, Ct);
                }
            await WaitMeshAsync(a, b.Router.PeerId, c.Router.PeerId, js[0].PeerId);
            await WaitMeshAsync(b, a.Router.PeerId, c.Router.PeerId, js[0].PeerId, js[1].PeerId);
            await WaitMeshAsync(c, a.Router.PeerId, b.Router.PeerId, js[1].PeerId);

            var ourPublishing = ours.Select((n, i) => PublishOursAsync(n, $"ours{i}", 200, Ct)).ToList();
            var jsPublishing = js.Select((j, i) => j.PublishWakuDataAsync(Topic, ContentTopic, $"js{i}", 200, Ct)).ToList();
            var ourPublishes = await Task.WhenAll(ourPublishing);
            var jsPublishes = await Task.WhenAll(jsPublishing);
            var all = ourPublishes.SelectMany(m => m).Concat(jsPublishes.SelectMany(p => p.Data).Select(d => WakuMessage.Parser.ParseFrom(d))).ToList();
            Assert.Equal(1000, all.Select(m => MessageHash.Compute(Topic, m)).Distinct().Count());

            foreach (var n in ours)
                await Polling.WaitUntil(() => n.Stored(Topic) >= 1000, $"1000 stored at {n.Router.PeerId} (has {n.Stored(Topic)})", 60);
            foreach (var n in ours)
            {
                Assert.Equal(1000, n.Stored(Topic));
                Assert.All(all, m => Assert.True(n.Has(Topic, m)));
                // Delivered to the relay (our application) once each: its own 200 locally, the 800 others from the network.
                Assert.Equal(1000, n.Router.Delivered.Count);
                Assert.Equal(1000, n.Router.Delivered.Select(m => Convert.ToHexStringLower(m.MessageId.Span)).Distinct().Count());
                Assert.Equal(0, n.RelayMetrics.Rejected);
            }
            var allIds = all.Select(m => Id(m.ToByteArray())).ToHashSet();
            for (int i = 0; i < js.Count; i++)
            {
                var received = await js[i].WaitReceivedAsync(Topic, 800, Ct, 60);
                var expected = allIds.Except(jsPublishes[i].Ids).ToHashSet();
                Assert.True(expected.SetEquals(received.Ids), $"js {i} received {received.Ids.Count} ({received.Ids.Distinct().Count()} distinct) of 800");
                Assert.Equal(0, received.Duplicates);
            }
        }
        finally
        {
            foreach (var j in js) await j.DisposeAsync();
            foreach (var n in ours) await n.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_misbehaving_js_peer_is_rejected_and_graylisted_while_honest_peers_keep_their_traffic()
    {
        await using var a = await OurRelayNode.StartAsync(Topic, Ct);
        await using var b = await OurRelayNode.StartAsync(Topic, Ct);
        await using var honest = await JsGossipsubPeer.StartAsync(Ct, wakuValidator: true);
        await using var bad = await JsGossipsubPeer.StartAsync(Ct);
        await a.Router.DialAsync(b.Router.Address, Ct);
        await honest.SubscribeAsync(Topic, Ct);
        await bad.SubscribeAsync(Topic, Ct);
        foreach (var t in new[] { a, b })
        {
            await honest.DialAsync(t.Router.Address, Ct);
            await honest.WaitMeshAsync(Topic, t.Router.PeerId, Ct);
        }
        await bad.DialAsync(a.Router.Address, Ct);
        await bad.WaitMeshAsync(Topic, a.Router.PeerId, Ct);
        await WaitMeshAsync(a, b.Router.PeerId, honest.PeerId, bad.PeerId);
        var counters = () => a.Router.Router.Counters;

        // Honest traffic runs through everything below.
        var honestPublish = honest.PublishWakuDataAsync(Topic, ContentTopic, "honest", 100, Ct, delayMs: 20);

        // Invalid Waku messages: not a WakuMessage protobuf, and one without a content topic (js-waku rejects both too).
        for (int i = 0; i < 3; i++) await bad.PublishAsync(Topic, [0xff, 0xff, 0xff, (byte)i], Ct);
        for (int i = 0; i < 3; i++) await bad.PublishAsync(Topic, new WakuMessage { Payload = ByteString.CopyFromUtf8($"no topic {i}"), Timestamp = Timestamp.Now() }.ToByteArray(), Ct);
        await Polling.WaitUntil(() => a.RelayMetrics.Rejected == 6, $"6 invalid Waku messages rejected by the relay validator (has {a.RelayMetrics.Rejected})");
        Assert.True(a.Router.Score(bad.PeerId) < 0);
        // Oversized (data above 150 KiB, within the RPC frame limit) and signed (StrictNoSign): the router rejects them.
        for (int i = 0; i < 2; i++)
        {
            var big = Fresh($"big {i} " + new string('x', 160 * 1024)).ToByteArray();
            await bad.PublishAsync(Topic, big, Ct);
        }
        var signed = Enumerable.Range(0, 2).Select(i => new RPC
        {
            Publish = { new Message { Topic = Topic, Data = Fresh($"signed {i}").ToByteString(), From = ByteString.CopyFrom(new byte[38]), Seqno = ByteString.CopyFrom(new byte[8]), Signature = ByteString.CopyFrom(new byte[64]) } },
        }.ToByteArray());
        await bad.RawFramesAsync(a.Router.PeerId, signed, Ct);
        await Polling.WaitUntil(() => counters().MessagesRejected >= 10, $"10 rejections (has {counters().MessagesRejected})");
        Assert.Equal(6, a.RelayMetrics.Rejected); // the last four never reached the validator
        // A flood of undecodable messages: rejected until the score is below the graylist threshold, then disconnected.
        for (int i = 0; i < 300 && a.Router.Connected(bad.PeerId); i++) await bad.PublishAsync(Topic, [0xfe, (byte)(i >> 8), (byte)i], Ct);
        await Polling.WaitUntil(() => !a.Router.Connected(bad.PeerId), "the misbehaving peer disconnected");
        double score = a.Router.Score(bad.PeerId);
        Assert.True(score < a.Router.Router.Options.Thresholds.GraylistThreshold, $"score {score}");

        // Honest peers: all of js's 100 stored by both of ours, ours reach js; nothing of the bad peer went anywhere.
        var honestSent = (await honestPublish).Data.Select(d => WakuMessage.Parser.ParseFrom(d)).ToList();
        var fromOurs = await PublishOursAsync(a, "after", 20, Ct);
        foreach (var n in new[] { a, b })
            await Polling.WaitUntil(() => n.Stored(Topic) == 120, $"120 stored at {n.Router.PeerId} (has {n.Stored(Topic)})", 60);
        Assert.All(honestSent.Concat(fromOurs), m => Assert.True(b.Has(Topic, m)));
        var received = await honest.WaitReceivedAsync(Topic, 20, Ct);
        Assert.True(fromOurs.Select(m => Id(m.ToByteArray())).ToHashSet().SetEquals(received.Ids), $"js received {received.Ids.Count}");
        Assert.Equal(0, b.RelayMetrics.Rejected);
        Assert.True(a.Router.Score(honest.PeerId) >= 0 && a.Router.Score(b.Router.PeerId) >= 0 && b.Router.Score(honest.PeerId) >= 0);
        Assert.True(await honest.ScoreAsync(a.Router.PeerId, Ct) >= 0);
    }
}
