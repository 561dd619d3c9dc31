using System.Text;
using StoreSync.Libp2p.Pubsub;
using StoreSync.Testing;
using StoreSync.Testing.Interop;

namespace StoreSync.Interop.Tests.Pubsub;

/// <summary>
/// Our gossipsub router (Waku preset, in this process) against js @libp2p/gossipsub 17 processes configured as js-waku's
/// relay, over loopback TCP + Noise + yamux on /vac/waku/relay/2.0.0.
/// </summary>
public sealed class JsGossipsubInteropTests : IDisposable
{
    const string Topic = "/waku/2/rs/16/32";
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(90));
    CancellationToken Ct => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    static string Hex(ReadOnlyMemory<byte> id) => Convert.ToHexStringLower(id.Span);

    /// <summary>Both subscribe, js dials us, and each is in the other's mesh.</summary>
    async Task MeshAsync(OurRouter ours, JsGossipsubPeer js)
    {
        ours.Router.Subscribe(Topic);
        await js.SubscribeAsync(Topic, Ct);
        await js.DialAsync(ours.Address, Ct);
        await Polling.WaitUntil(() => ours.InMesh(Topic, js.PeerId), "js in our mesh");
        await js.WaitMeshAsync(Topic, ours.PeerId, Ct);
    }

    [Fact]
    public async Task Js_and_we_graft_each_other_and_deliver_both_ways_under_the_same_message_ids()
    {
        await using var ours = await OurRouter.StartAsync(Ct);
        await using var js = await JsGossipsubPeer.StartAsync(Ct);
        await MeshAsync(ours, js);
        Assert.Equal(GossipsubOptions.WakuRelayProtocolId, ours.Router.Options.ProtocolIds.Single());

        var fromUs = Encoding.UTF8.GetBytes("from storesync");
        Assert.Equal(1, await ours.Router.PublishAsync(Topic, fromUs, Ct));
        var (jsId, recipients) = await js.PublishAsync(Topic, Encoding.UTF8.GetBytes("from js"), Ct);
        Assert.Equal([ours.PeerId], recipients);

        await Polling.WaitUntil(() => ours.Delivered.Count == 2, "both messages delivered by us");
        var fromJs = ours.Delivered.Single(m => m.Data.Span.SequenceEqual("from js"u8));
        Assert.Equal(jsId, Hex(fromJs.MessageId));
        Assert.Equal(js.PeerId, fromJs.ReceivedFrom.ToString());

        var received = await js.WaitReceivedAsync(Topic, 1, Ct);
        var ourId = Hex(ours.Delivered.Single(m => m.Data.Span.SequenceEqual(fromUs)).MessageId);
        Assert.Equal([ourId], received.Ids);
        Assert.Equal([ours.PeerId], received.From);
        Assert.Equal(0, received.Duplicates);
        Assert.Equal(0, ours.Router.Counters.MessagesRejected);
    }

    [Fact]
    public async Task Bursts_and_messages_near_the_size_limit_cross_both_ways_once()
    {
        await using var ours = await OurRouter.StartAsync(Ct);
        await using var js = await JsGossipsubPeer.StartAsync(Ct);
        await MeshAsync(ours, js);

        // 300 back to back (our writer coalesces them into few writes) and two of 149 KiB (frames larger than its 64 KiB batch).
        var sizes = Enumerable.Range(0, 300).Select(i => 100 + i).Append(149 * 1024).Append(149 * 1024 - 1).ToList();
        var ourIds = new HashSet<string>();
        for (int i = 0; i < sizes.Count; i++)
        {
            var data = new byte[sizes[i]];
            Random.Shared.NextBytes(data);
            Assert.Equal(1, await ours.Router.PublishAsync(Topic, data, Ct));
            ourIds.Add(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data)));
        }
        var jsIds = new HashSet<string>(await js.PublishWakuAsync(Topic, "/test/1/burst/proto", "js", 300, Ct));
        jsIds.UnionWith(await js.PublishWakuAsync(Topic, "/test/1/burst/proto", "big", 1, Ct, size: 149 * 1024));

        await Polling.WaitUntil(() => ours.Delivered.Count == ourIds.Count + jsIds.Count, $"{ourIds.Count + jsIds.Count} deliveries at ours");
        Assert.True(jsIds.SetEquals(ours.Delivered.Where(m => m.ReceivedFrom.ToString() == js.PeerId).Select(m => Hex(m.MessageId))));
        var received = await js.WaitReceivedAsync(Topic, ourIds.Count, Ct);
        Assert.True(ourIds.SetEquals(received.Ids), $"js received {received.Ids.Count} of {ourIds.Count}");
        Assert.Equal(0, received.Duplicates);
        Assert.Equal(0, ours.Router.Counters.Duplicates);
        Assert.Equal(0, ours.Router.Counters.FramesDropped);
    }

    [Fact]
    public async Task A_signed_js_message_is_rejected_and_js_falls_to_the_graylist()
    {
        await using var ours = await OurRouter.StartAsync(Ct);
        await using var js = await JsGossipsubPeer.StartAsync(Ct, sign: true);
        await MeshAsync(ours, js);

        await js.PublishAsync(Topic, "signed 0"u8.ToArray(), Ct);
        await Polling.WaitUntil(() => ours.Router.Counters.MessagesRejected == 1, "the signed message rejected");
        double afterOne = ours.Score(js.PeerId);
        Assert.True(afterOne < 0, $"score after one invalid message: {afterOne}");

        // P4 = -100 × n² (Waku preset): the 11th invalid message takes js below the graylist threshold of -10,000.
        for (int i = 1; i < 11; i++) await js.PublishAsync(Topic, Encoding.UTF8.GetBytes($"signed {i}"), Ct);
        await Polling.WaitUntil(() => ours.Router.Counters.MessagesRejected == 11, "11 signed messages rejected");
        double score = ours.Score(js.PeerId);
        Assert.True(score < ours.Router.Options.Thresholds.GraylistThreshold, $"score {score}");
        Assert.Empty(ours.Delivered);
        // The Waku preset disconnects a peer below the graylist threshold (nwaku's disconnectBadPeers).
        await Polling.WaitUntil(() => !ours.Connected(js.PeerId), "js disconnected");
    }
}
