using System.Collections.Concurrent;
using System.Net;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Libp2p.Pubsub;

namespace StoreSync.Interop.Tests.Pubsub;

/// <summary>Our libp2p host on 127.0.0.1 with a <see cref="GossipsubRouter"/> in Waku's configuration, recording what it delivers.</summary>
internal sealed class OurRouter : IAsyncDisposable
{
    OurRouter(Libp2pHost host, GossipsubRouter router)
    {
        Host = host;
        Router = router;
        router.MessageDelivered += m => Delivered.Enqueue(m);
    }

    public Libp2pHost Host { get; }

    public GossipsubRouter Router { get; }

    public ConcurrentQueue<PubsubMessage> Delivered { get; } = new();

    public string PeerId => Host.PeerId.ToString();

    public string Address => Host.ListenAddresses[0].ToString();

    /// <summary>The Waku preset; P6 does not count loopback, which every test peer shares.</summary>
    public static GossipsubOptions WakuOnLoopback
    {
        get
        {
            var waku = GossipsubOptions.Waku;
            return waku with { Score = waku.Score with { IpColocationFactorWhitelist = new HashSet<IPAddress> { IPAddress.Loopback } } };
        }
    }

    public static async Task<OurRouter> StartAsync(CancellationToken ct, GossipsubOptions? options = null)
    {
        var host = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() });
        await host.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], ct);
        var router = new GossipsubRouter(host, options ?? WakuOnLoopback);
        router.Start();
        return new OurRouter(host, router);
    }

    public Task DialAsync(string address, CancellationToken ct) => Host.DialAsync(Multiaddr.Parse(address), ct);

    public bool InMesh(string topic, string peer) => Router.MeshPeers(topic).Any(p => p.ToString() == peer);

    public double Score(string peer) => Router.Score(global::StoreSync.Libp2p.Identity.PeerId.Parse(peer));

    public bool Connected(string peer) => Host.FindConnection(global::StoreSync.Libp2p.Identity.PeerId.Parse(peer)) is not null;

    public async ValueTask DisposeAsync()
    {
        await Router.DisposeAsync();
        await Host.DisposeAsync();
    }
}
