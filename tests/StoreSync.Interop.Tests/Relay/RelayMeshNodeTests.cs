using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Noise;
using StoreSync.Testing.Interop;
using StoreSync.Testing.Node;
using StoreSync.Waku;
using StoreSync.Waku.LightPush;

namespace StoreSync.Interop.Tests.Relay;

/// <summary>Issue 14's proof 3 on real processes: three <c>storesync node</c> processes with relay on and two js
/// @libp2p/gossipsub 17 peers configured as js-waku's relay (tests/Interop/gossipsub/peer.mjs).</summary>
public sealed class RelayMeshNodeTests
{
    const string Topic = "/waku/2/rs/16/32";
    const string ContentTopic = "/storesync/1/relay-mesh/proto";
    const int Each = 200;

    /// <summary>Publishes through a node: light push v3 (the node stores, then publishes to relay), retried when rate-limited.</summary>
    internal static async Task<List<WakuMessage>> PushAsync(StoreNodeProcess node, string prefix, CancellationToken ct, int count = Each,
        string contentTopic = ContentTopic)
    {
        await using var host = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() });
        var push = new LightPushClient(host);
        var sent = new List<WakuMessage>();
        for (int i = 0; i < count; i++)
        {
            var m = new WakuMessage { Payload = ByteString.CopyFromUtf8($"{prefix} {i}"), ContentTopic = contentTopic, Timestamp = Timestamp.Now() };
            for (int attempt = 0; ; attempt++)
            {
                var response = await push.PushAsync(node.Multiaddr, Topic, m, ct);
                if (response.StatusCode == 200) break;
                Assert.True(response.StatusCode == WakuStatus.TooManyRequests && attempt < 50, $"push {i}: {response.StatusCode} {response.StatusDesc}");
                await Task.Delay(50, ct);
            }
            sent.Add(m);
        }
        return sent;
    }

    [Fact]
    public async Task Three_nodes_and_two_js_peers_each_publish_200_and_every_store_ends_with_all_1000_none_delivered_twice()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(240));
        var ct = timeout.Token;
        await using var a = await StoreNodeProcess.StartAsync(JsWakuRelayNodeTests.RelayNode());
        await using var b = await StoreNodeProcess.StartAsync(JsWakuRelayNodeTests.RelayNode(a.Address));
        await using var c = await StoreNodeProcess.StartAsync(JsWakuRelayNodeTests.RelayNode(a.Address, b.Address));
        StoreNodeProcess[] nodes = [a, b, c];
        await using var js0 = await JsGossipsubPeer.StartAsync(ct, wakuValidator: true);
        await using var js1 = await JsGossipsubPeer.StartAsync(ct, wakuValidator: true);
        JsGossipsubPeer[] js = [js0, js1];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };

        // Our three in a triangle (static links); js 0 on a and b, js 1 on b and c.
        foreach (var (j, targets) in new[] { (js0, new[] { a, b }), (js1, new[] { b, c }) })
        {
            await j.SubscribeAsync(Topic, ct);
            foreach (var t in targets)
            {
                await j.DialAsync(t.Address, ct);
                await j.WaitMeshAsync(Topic, t.PeerId, ct, 30_000);
            }
        }
        await NodeReadings.WaitForMeshAsync(http, a, Topic, 3, ct);
        await NodeReadings.WaitForMeshAsync(http, b, Topic, 4, ct);
        await NodeReadings.WaitForMeshAsync(http, c, Topic, 3, ct);

        var ourPublishing = nodes.Select((n, i) => PushAsync(n, $"node{i}", ct)).ToList();
        var jsPublishing = js.Select((j, i) => j.PublishWakuDataAsync(Topic, ContentTopic, $"js{i}", Each, ct)).ToList();
        var ours = await Task.WhenAll(ourPublishing);
        var theirs = await Task.WhenAll(jsPublishing);
        var all = ours.SelectMany(m => m).Concat(theirs.SelectMany(p => p.Data).Select(d => WakuMessage.Parser.ParseFrom(d)))
            .Select(m => MessageHash.Compute(Topic, m)).ToHashSet();
        Assert.Equal(5 * Each, all.Count);

        foreach (var n in nodes)
        {
            List<string> stored = [];
            for (int i = 0; i < 300 && (stored = await NodeReadings.StoredHashesAsync(http, n, Topic, ct)).Count < all.Count; i++) await Task.Delay(200, ct);
            Assert.True(all.SetEquals(stored.Select(MessageHash.Parse)), $"{n.PeerId} stores {stored.Count} ({stored.Distinct().Count()} distinct) of {all.Count}");
            Assert.Equal(all.Count, stored.Count);
        }
        // No copy reached any of our stores twice: each node stored each message once and heard no re-encoded copy.
        foreach (var n in nodes)
        {
            var metrics = await http.GetStringAsync(n.Metrics, ct);
            Assert.Equal(all.Count, NodeReadings.Sample(metrics, "storesync_messages_stored_total", ("pubsub_topic", Topic)));
            Assert.Null(NodeReadings.Sample(metrics, "storesync_relay_messages_total", ("reason", "duplicate")));
            Assert.Null(NodeReadings.Sample(metrics, "storesync_relay_messages_total", ("outcome", "rejected")));
        }
        // Each js application received the other 800, each once.
        for (int i = 0; i < js.Length; i++)
        {
            var received = await js[i].WaitReceivedAsync(Topic, 4 * Each, ct, 60);
            var expected = all.Except(theirs[i].Data.Select(d => MessageHash.Compute(Topic, WakuMessage.Parser.ParseFrom(d)))).ToHashSet();
            var got = received.Data.Select(d => MessageHash.Compute(Topic, WakuMessage.Parser.ParseFrom(d))).ToList();
            Assert.True(expected.SetEquals(got), $"js {i} received {got.Count} ({got.Distinct().Count()} distinct) of {expected.Count}");
            Assert.Equal(expected.Count, got.Count);
            Assert.Equal(0, received.Duplicates);
        }
    }
}
