using System.Collections.Concurrent;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Pubsub;
using StoreSync.Libp2p.Tests.Host;

namespace StoreSync.Libp2p.Tests.Pubsub;

/// <summary>A host with a gossipsub router on loopback, recording what it delivers.</summary>
internal sealed class RouterNode : IAsyncDisposable
{
    RouterNode(Libp2pHost host, GossipsubRouter router)
    {
        Host = host;
        Router = router;
        router.MessageDelivered += m => Delivered.Enqueue(m);
    }

    public Libp2pHost Host { get; }

    public GossipsubRouter Router { get; }

    public ConcurrentQueue<PubsubMessage> Delivered { get; } = new();

    /// <summary>Fast heartbeats so tests converge in tenths of seconds; otherwise the given (or spec default) options.</summary>
    public static GossipsubOptions TestOptions => new()
    {
        HeartbeatInterval = TimeSpan.FromMilliseconds(100),
        HeartbeatInitialDelay = TimeSpan.FromMilliseconds(10),
        Score = new PeerScoreParams { DefaultTopic = new TopicScoreParams() },
    };

    public static async Task<RouterNode> StartAsync(GossipsubOptions? options = null)
    {
        var host = await TestHosts.StartAsync();
        var router = new GossipsubRouter(host, options ?? TestOptions);
        router.Start();
        return new RouterNode(host, router);
    }

    public Task ConnectAsync(RouterNode other, CancellationToken ct) => Host.DialAsync(other.Host.ListenAddresses[0], ct);

    public int DeliveredCount(string topic) => Delivered.Count(m => m.Topic == topic);

    public async ValueTask DisposeAsync()
    {
        await Router.DisposeAsync();
        await Host.DisposeAsync();
    }
}
