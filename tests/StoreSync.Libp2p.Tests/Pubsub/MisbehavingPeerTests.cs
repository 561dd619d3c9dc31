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

    [Fact]
    public async Task A_graft_flood_during_backoff_is_pruned_each_time_and_ends_graylisted()
    {
        // Waku's scoring (behaviour penalty weight -10 over a threshold), fast heartbeats; the raw peer dialled us (inbound).
        var options = GossipsubOptions.Waku with { HeartbeatInterval = TimeSpan.FromMilliseconds(100), HeartbeatInitialDelay = TimeSpan.FromMilliseconds(10) };
        await using var node = await RouterNode.StartAsync(options);
        node.Router.Subscribe(Topic);
        await using var raw = await TestHosts.StartAsync();
        var prunes = new System.Collections.Concurrent.ConcurrentQueue<ControlPrune>();
        raw.SetStreamHandler(GossipsubOptions.WakuRelayProtocolId, async (s, c) =>
        {
            using var reader = new RpcFrameReader(s, options.MaxRpcSize);
            while (await reader.ReadAsync(c) is { } frame)
                foreach (var prune in RpcFrameReader.Decode(frame.Span).Control?.Prune ?? []) prunes.Enqueue(prune);
        });
        await using var stream = await raw.NewStreamAsync(node.Host.ListenAddresses[0], GossipsubOptions.WakuRelayProtocolId, Ct);
        var graft = new ControlGraft { TopicID = Topic };
        await LengthPrefixed.WriteAsync(stream, new RPC { Subscriptions = { new RPC.Types.SubOpts { Subscribe = true, Topicid = Topic } }, Control = new ControlMessage { Graft = { graft } } }.ToByteArray(), Ct);
        await Polling.WaitUntil(() => node.Router.MeshPeers(Topic).Contains(raw.PeerId), "the first GRAFT accepted");
        // The peer leaves (its PRUNE sets the backoff), then grafts 100 times at once: each GRAFT inside the backoff is answered
        // by a PRUNE and costs P7 twice (a flood right after the PRUNE), so one RPC takes it below graylist.
        await LengthPrefixed.WriteAsync(stream, new RPC { Control = new ControlMessage { Prune = { new ControlPrune { TopicID = Topic, Backoff = 60 } } } }.ToByteArray(), Ct);
        await Polling.WaitUntil(() => !node.Router.MeshPeers(Topic).Contains(raw.PeerId), "the PRUNE handled");
        var flood = new ControlMessage();
        for (int i = 0; i < 100; i++) flood.Graft.Add(graft);
        await LengthPrefixed.WriteAsync(stream, new RPC { Control = flood }.ToByteArray(), Ct);
        await Polling.WaitUntil(() => prunes.Count >= 100, $"a PRUNE for each GRAFT (so far {prunes.Count})");
        Assert.All(prunes, p => Assert.Equal(Topic, p.TopicID));
        Assert.DoesNotContain(raw.PeerId, node.Router.MeshPeers(Topic));
        Assert.True(node.Router.Score(raw.PeerId) < options.Thresholds.GraylistThreshold, $"score {node.Router.Score(raw.PeerId)}");
        // Graylisted, and under Waku's options (DisconnectBadPeers, as nwaku) disconnected; its score is kept.
        Assert.True(options.DisconnectBadPeers);
        await Polling.WaitUntil(() => !node.Router.TopicPeers(Topic).Contains(raw.PeerId), "the graylisted peer disconnected");
        Assert.Equal(1, node.Router.GraylistedPeers);
        Assert.Equal(100, prunes.Count);
    }

    [Fact]
    public async Task An_oversized_rpc_frame_resets_that_stream_costs_the_sender_and_leaves_the_router_serving()
    {
        await using var node = await RouterNode.StartAsync();
        node.Router.Subscribe(Topic);
        await using var honest = await RouterNode.StartAsync();
        honest.Router.Subscribe(Topic);
        await honest.ConnectAsync(node, Ct);
        await using var raw = await TestHosts.StartAsync();
        raw.SetStreamHandler(GossipsubOptions.MeshsubV11, async (s, c) => { var b = new byte[4096]; while (await s.ReadAsync(b, c) > 0) { } });
        await using var stream = await raw.NewStreamAsync(node.Host.ListenAddresses[0], GossipsubOptions.MeshsubV11, Ct);
        // A length prefix one byte over the limit, and then a body that would fill it: refused at the prefix, never buffered.
        int over = node.Router.Options.MaxRpcSize + 1;
        var prefix = new byte[10];
        int n = 0;
        for (uint v = (uint)over; ; v >>= 7) { prefix[n++] = (byte)(v < 0x80 ? v : (v & 0x7F) | 0x80); if (v < 0x80) break; }
        await stream.WriteAsync(prefix.AsMemory(0, n), Ct);
        try
        {
            for (int i = 0; i < 64 && !Ct.IsCancellationRequested; i++) await stream.WriteAsync(new byte[64 * 1024], Ct);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException || e.GetType().Name.Contains("Reset", StringComparison.Ordinal)) { }
        await Polling.WaitUntil(() => node.Router.Score(raw.PeerId) < 0, $"the sender penalised (score {node.Router.Score(raw.PeerId)})");
        // The router still carries an honest peer's message.
        await Polling.WaitUntil(() => node.Router.MeshPeers(Topic).Contains(honest.Host.PeerId), "the honest peer in the mesh");
        await honest.Router.PublishAsync(Topic, "still served"u8.ToArray(), Ct);
        await Polling.WaitUntil(() => node.DeliveredCount(Topic) == 1, "the honest message delivered");
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
