using Google.Protobuf;
using StoreSync.Libp2p.Pubsub;
using StoreSync.Libp2p.Pubsub.Pb;
using StoreSync.Libp2p.Tests.Host;
using StoreSync.Testing;

namespace StoreSync.Libp2p.Tests.Pubsub;

/// <summary>A hand-driven peer that breaks StrictNoSign: its messages are rejected, it falls below graylist, its RPCs are then ignored.</summary>
public sealed class MisbehavingPeerTests : IDisposable
{
    const string Topic = "/test/topic";
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    CancellationToken Ct => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task Signed_messages_are_rejected_until_the_sender_is_graylisted()
    {
        await using var node = await RouterNode.StartAsync();
        node.Router.Subscribe(Topic);
        await using var raw = await TestHosts.StartAsync();
        raw.SetStreamHandler(GossipsubOptions.MeshsubV11, async (s, c) => { var b = new byte[4096]; while (await s.ReadAsync(b, c) > 0) { } });
        await using var stream = await raw.NewStreamAsync(node.Host.ListenAddresses[0], GossipsubOptions.MeshsubV11, Ct);
        var hello = new RPC { Subscriptions = { new RPC.Types.SubOpts { Subscribe = true, Topicid = Topic } } };
        await LengthPrefixed.WriteAsync(stream, hello.ToByteArray(), Ct);
        // P4 = -100 × n²: the 11th invalid message takes the score below -10,000.
        for (int i = 0; i < 11; i++)
        {
            var signed = new Message { Topic = Topic, Data = ByteString.CopyFrom(BitConverter.GetBytes(i)), Seqno = ByteString.CopyFrom(1), From = ByteString.CopyFrom(raw.PeerId.Multihash.Span), Signature = ByteString.CopyFrom(new byte[64]) };
            await LengthPrefixed.WriteAsync(stream, new RPC { Publish = { signed } }.ToByteArray(), Ct);
        }
        await Polling.WaitUntil(() => node.Router.Counters.MessagesRejected == 11, "11 rejections");
        Assert.True(node.Router.Score(raw.PeerId) < node.Router.Options.Thresholds.GraylistThreshold, $"score {node.Router.Score(raw.PeerId)}");
        Assert.Equal(1, node.Router.GraylistedPeers);

        var honest = new Message { Topic = Topic, Data = ByteString.CopyFromUtf8("now honest") };
        await LengthPrefixed.WriteAsync(stream, new RPC { Publish = { honest } }.ToByteArray(), Ct);
        await Polling.WaitUntil(() => node.Router.Counters.GraylistedRpcs >= 1, "the graylisted RPC ignored");
        Assert.Empty(node.Delivered);
    }

    [Theory]
    [InlineData(0.0, true)]
    [InlineData(1.0, false)]
    public async Task Peer_exchange_in_a_PRUNE_is_followed_only_from_a_peer_at_or_above_the_accept_threshold(double acceptPx, bool followed)
    {
        var options = RouterNode.TestOptions with { Thresholds = new PeerScoreThresholds { AcceptPXThreshold = acceptPx } };
        await using var node = await RouterNode.StartAsync(options);
        node.Router.Subscribe(Topic);
        var exchanged = new System.Collections.Concurrent.ConcurrentQueue<StoreSync.Libp2p.Identity.PeerId>();
        node.Router.PeersExchanged += ids => { foreach (var id in ids) exchanged.Enqueue(id); };
        await using var raw = await TestHosts.StartAsync();
        raw.SetStreamHandler(GossipsubOptions.MeshsubV11, async (s, c) => { var b = new byte[4096]; while (await s.ReadAsync(b, c) > 0) { } });
        await using var stream = await raw.NewStreamAsync(node.Host.ListenAddresses[0], GossipsubOptions.MeshsubV11, Ct);
        var other = StoreSync.Libp2p.Identity.IdentityKey.Generate(StoreSync.Libp2p.Identity.KeyType.Ed25519).PeerId;
        var prune = new ControlPrune { TopicID = Topic, Backoff = 60, Peers = { new PeerInfo { PeerID = ByteString.CopyFrom(other.Multihash.Span) } } };
        await LengthPrefixed.WriteAsync(stream, new RPC { Control = new ControlMessage { Prune = { prune } } }.ToByteArray(), Ct);
        // A second, harmless RPC behind it: once it is handled (its subscription seen), the PRUNE was too.
        var sub = new RPC { Subscriptions = { new RPC.Types.SubOpts { Subscribe = true, Topicid = Topic } } };
        await LengthPrefixed.WriteAsync(stream, sub.ToByteArray(), Ct);
        await Polling.WaitUntil(() => node.Router.TopicPeers(Topic).Count == 1, "the raw peer's RPCs handled");
        Assert.Equal(followed, exchanged.Contains(other));
    }
}
