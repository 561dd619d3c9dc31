using StoreSync.Libp2p.Pubsub;
using StoreSync.Testing;

namespace StoreSync.Libp2p.Tests.Pubsub;

/// <summary>Gossipsub routers on real hosts (loopback TCP, Noise, yamux): mesh, forwarding, validation, gossip repair.</summary>
public sealed class GossipsubRouterTests : IDisposable
{
    const string Topic = "/test/topic";
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    CancellationToken Ct => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task Two_routers_graft_each_other_and_deliver_both_ways_once()
    {
        await using var a = await RouterNode.StartAsync();
        await using var b = await RouterNode.StartAsync();
        a.Router.Subscribe(Topic);
        b.Router.Subscribe(Topic);
        await a.ConnectAsync(b, Ct);
        await Polling.WaitUntil(() => a.Router.MeshPeers(Topic).Contains(b.Host.PeerId) && b.Router.MeshPeers(Topic).Contains(a.Host.PeerId), "mesh both ways");

        Assert.Equal(1, await a.Router.PublishAsync(Topic, "from a"u8.ToArray(), Ct));
        Assert.Equal(1, await b.Router.PublishAsync(Topic, "from b"u8.ToArray(), Ct));
        await Polling.WaitUntil(() => a.DeliveredCount(Topic) == 2 && b.DeliveredCount(Topic) == 2, "both messages at both");
        Assert.Equal(a.Host.PeerId, b.Delivered.Single(m => m.Data.Span.SequenceEqual("from a"u8)).ReceivedFrom);
        Assert.Equal(b.Host.PeerId, a.Delivered.Single(m => m.Data.Span.SequenceEqual("from b"u8)).ReceivedFrom);
        Assert.Equal(GossipsubOptions.MeshsubV11, a.Router.Options.ProtocolIds[0]);
    }

    [Fact]
    public async Task A_message_crosses_a_line_and_a_triangle_and_is_delivered_once_everywhere()
    {
        var nodes = new List<RouterNode>();
        try
        {
            for (int i = 0; i < 4; i++) nodes.Add(await RouterNode.StartAsync());
            foreach (var n in nodes) n.Router.Subscribe(Topic);
            // 0 - 1 - 2 - 3 with a chord 1 - 3: a line for hops, a triangle for duplicates.
            await nodes[0].ConnectAsync(nodes[1], Ct);
            await nodes[1].ConnectAsync(nodes[2], Ct);
            await nodes[2].ConnectAsync(nodes[3], Ct);
            await nodes[1].ConnectAsync(nodes[3], Ct);
            await Polling.WaitUntil(() => nodes[3].Router.MeshPeers(Topic).Count == 2 && nodes[0].Router.MeshPeers(Topic).Count == 1, "meshes");

            for (int i = 0; i < 20; i++) await nodes[i % 4].Router.PublishAsync(Topic, BitConverter.GetBytes(i), Ct);
            await Polling.WaitUntil(() => nodes.All(n => n.DeliveredCount(Topic) == 20), "20 messages everywhere");
            foreach (var n in nodes)
                Assert.Equal(20, n.Delivered.Select(m => Convert.ToHexString(m.MessageId.Span)).Distinct().Count());
            Assert.True(nodes[1].Router.Counters.Duplicates + nodes[3].Router.Counters.Duplicates > 0, "the triangle produced duplicates that were suppressed");
        }
        finally
        {
            foreach (var n in nodes) await n.DisposeAsync();
        }
    }

    [Fact]
    public async Task Validation_accept_forwards_ignore_drops_reject_drops_and_penalises()
    {
        await using var a = await RouterNode.StartAsync();
        await using var b = await RouterNode.StartAsync();
        await using var c = await RouterNode.StartAsync();
        foreach (var n in new[] { a, b, c }) n.Router.Subscribe(Topic);
        b.Router.SetValidator(Topic, (m, _) => ValueTask.FromResult(m.Data.Span[0] switch
        {
            (byte)'i' => ValidationResult.Ignore,
            (byte)'r' => ValidationResult.Reject,
            _ => ValidationResult.Accept,
        }));
        await a.ConnectAsync(b, Ct);
        await b.ConnectAsync(c, Ct);
        await Polling.WaitUntil(() => b.Router.MeshPeers(Topic).Count == 2 && c.Router.MeshPeers(Topic).Count == 1, "line a-b-c");

        await a.Router.PublishAsync(Topic, "ignore me"u8.ToArray(), Ct);
        await a.Router.PublishAsync(Topic, "reject me"u8.ToArray(), Ct);
        await a.Router.PublishAsync(Topic, "accept me"u8.ToArray(), Ct);
        await Polling.WaitUntil(() => c.DeliveredCount(Topic) == 1, "the accepted message at c");
        await Polling.WaitUntil(() => b.Router.Counters.MessagesRejected == 1 && b.Router.Counters.MessagesIgnored == 1, "b judged all three");
        Assert.Equal("accept me", System.Text.Encoding.UTF8.GetString(c.Delivered.Single().Data.Span));
        Assert.Equal("accept me", System.Text.Encoding.UTF8.GetString(b.Delivered.Single().Data.Span));
        // P4 with the spec-default weight -100 per squared invalid message (first delivery P2 +1 for the accepted one).
        Assert.True(b.Router.Score(a.Host.PeerId) < -50, $"score {b.Router.Score(a.Host.PeerId)}");
        Assert.True(b.Router.Score(c.Host.PeerId) >= 0);
    }

    [Fact]
    public async Task Local_publish_refuses_duplicates_oversized_data_and_what_the_validator_rejects()
    {
        await using var a = await RouterNode.StartAsync(RouterNode.TestOptions with { MaxMessageSize = 100 });
        a.Router.Subscribe(Topic);
        a.Router.SetValidator(Topic, (m, _) => ValueTask.FromResult(m.Data.Length == 3 ? ValidationResult.Reject : ValidationResult.Accept));
        Assert.Equal(0, await a.Router.PublishAsync(Topic, "one"u8.ToArray().Concat("!"u8.ToArray()).ToArray(), Ct));
        var dup = await Assert.ThrowsAsync<PubsubPublishException>(async () => await a.Router.PublishAsync(Topic, "one!"u8.ToArray(), Ct));
        Assert.Contains("duplicate", dup.Reason);
        var big = await Assert.ThrowsAsync<PubsubPublishException>(async () => await a.Router.PublishAsync(Topic, new byte[101], Ct));
        Assert.Contains("maximum message size", big.Reason);
        var rejected = await Assert.ThrowsAsync<PubsubPublishException>(async () => await a.Router.PublishAsync(Topic, "bad"u8.ToArray(), Ct));
        Assert.Contains("rejected", rejected.Reason);
        Assert.Single(a.Delivered);
    }

    [Fact]
    public async Task A_message_the_mesh_did_not_carry_is_repaired_by_IHAVE_and_IWANT()
    {
        // a keeps no mesh (D = D_lo = D_hi = 0, no flood publish): its own message reaches b only through gossip.
        var lonely = RouterNode.TestOptions with { D = 0, DLow = 0, DHigh = 0, DScore = 0, DOut = 0, FloodPublish = false };
        await using var a = await RouterNode.StartAsync(lonely);
        await using var b = await RouterNode.StartAsync();
        a.Router.Subscribe(Topic);
        b.Router.Subscribe(Topic);
        await b.ConnectAsync(a, Ct);
        await Polling.WaitUntil(() => a.Router.TopicPeers(Topic).Count == 1 && b.Router.TopicPeers(Topic).Count == 1, "topic peers");
        await Polling.WaitUntil(() => b.Router.Counters.FramesSent >= 2, "b tried to graft");
        Assert.Empty(a.Router.MeshPeers(Topic));

        Assert.Equal(0, await a.Router.PublishAsync(Topic, "by gossip"u8.ToArray(), Ct));
        await Polling.WaitUntil(() => b.DeliveredCount(Topic) == 1, "b obtained the message by IWANT");
        Assert.Equal(a.Host.PeerId, b.Delivered.Single().ReceivedFrom);
        Assert.Empty(a.Router.MeshPeers(Topic));
        Assert.True(b.Router.Counters.IWantIdsSent >= 1, "b asked by IWANT");
    }

    [Fact]
    public async Task Unsubscribing_prunes_the_mesh_and_stops_delivery()
    {
        await using var a = await RouterNode.StartAsync();
        await using var b = await RouterNode.StartAsync();
        a.Router.Subscribe(Topic);
        b.Router.Subscribe(Topic);
        await a.ConnectAsync(b, Ct);
        await Polling.WaitUntil(() => b.Router.MeshPeers(Topic).Count == 1, "mesh");
        b.Router.Unsubscribe(Topic);
        await Polling.WaitUntil(() => a.Router.MeshPeers(Topic).Count == 0 && a.Router.TopicPeers(Topic).Count == 0, "a sees b leave");
        Assert.Empty(b.Router.Subscriptions);
        Assert.Equal(0, await a.Router.PublishAsync(Topic, "nobody"u8.ToArray(), Ct));
    }

    [Fact]
    public async Task Publishing_to_a_topic_not_joined_goes_through_fanout()
    {
        await using var a = await RouterNode.StartAsync(RouterNode.TestOptions with { FloodPublish = false });
        await using var b = await RouterNode.StartAsync();
        b.Router.Subscribe(Topic);
        await a.ConnectAsync(b, Ct);
        await Polling.WaitUntil(() => a.Router.TopicPeers(Topic).Count == 1, "a knows b's topic");
        Assert.Equal(1, await a.Router.PublishAsync(Topic, "fanout"u8.ToArray(), Ct));
        await Polling.WaitUntil(() => b.DeliveredCount(Topic) == 1, "b got the fanout message");
        Assert.Empty(a.Delivered); // not subscribed: our own message is not delivered to us
    }
}
