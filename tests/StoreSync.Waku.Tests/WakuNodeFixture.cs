using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Storage.Query;
using StoreSync.Testing.Libp2p;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.LightPush;
using StoreSync.Waku.Metadata;
using StoreSync.Waku.Peers;
using StoreSync.Waku.RateLimiting;
using StoreSync.Waku.Store;

namespace StoreSync.Waku.Tests;

/// <summary>A store node's Waku services on a real host and a real store, and a client host to talk to it.</summary>
public sealed class WakuNodeFixture : IAsyncDisposable
{
    public TempStore Store { get; } = new();
    public Libp2pHost Server { get; }
    public Libp2pHost Client { get; }
    public WakuMetrics Metrics { get; } = new();
    public Multiaddr Address => Server.ListenAddresses[0];
    public static readonly string[] Served = ["/waku/2/rs/1/0", "/waku/2/rs/1/1"];

    WakuNodeFixture(double queriesPerSecond, uint clusterId, CommunityPolicy? communities, PeerPenalties? penalties)
    {
        Server = new Libp2pHost(IdentityKey.Generate(KeyType.Secp256k1), new HostOptions { Security = new PlaintextSecurity() });
        Client = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new PlaintextSecurity() });
        var limiter = new PerPeerRateLimiter(queriesPerSecond, Math.Max(1, queriesPerSecond));
        var engine = new StoreQueryEngine(Store.Store);
        new StoreQueryService(new StoreQueryServer(engine, limiter, Metrics, NullLogger<StoreQueryServer>.Instance, communities: communities), Metrics, NullLogger<StoreQueryService>.Instance).Attach(Server);
        var ingress = new MessageIngress(Store.Store, MessageValidator.Default, new Topics(), Metrics, NullLogger<MessageIngress>.Instance, communities);
        new LightPushService(new LightPushServer(ingress, limiter, NullLogger<LightPushServer>.Instance, penalties: penalties), MessageValidator.DefaultMaxMessageBytes, NullLogger<LightPushService>.Instance).Attach(Server);
        new MetadataService(new MetadataProtocol(clusterId, [0, 1]), NullLogger<MetadataService>.Instance).Attach(Server);
    }

    public static async Task<WakuNodeFixture> StartAsync(double queriesPerSecond = 0, uint clusterId = 1, CommunityPolicy? communities = null,
        PeerPenalties? penalties = null)
    {
        var fixture = new WakuNodeFixture(queriesPerSecond, clusterId, communities, penalties);
        await fixture.Server.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], default);
        await fixture.Client.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], default);
        return fixture;
    }

    /// <summary>One request to the node's <paramref name="protocol"/> from the client host, and its response bytes.</summary>
    public Task<byte[]> RoundTripAsync(string protocol, IMessage request, CancellationToken ct) =>
        RequestResponse.RoundTripAsync(Client, Address, protocol, request, ct);

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        Store.Dispose();
        Metrics.Dispose();
    }

    /// <summary>The fixture's served topics, for a community policy under test.</summary>
    public static IServedTopics ServedTopics { get; } = new Topics();

    sealed class Topics : IServedTopics
    {
        public bool Serves(string pubsubTopic) => Served.Contains(pubsubTopic);
        public IReadOnlyCollection<string> PubsubTopics => Served;
    }
}
