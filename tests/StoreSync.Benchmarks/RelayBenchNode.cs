using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Libp2p.Pubsub;
using StoreSync.Node.Hosting;
using StoreSync.Storage;
using StoreSync.Testing.Storage;
using StoreSync.Waku;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Relay;

namespace StoreSync.Benchmarks;

/// <summary>One relay node of the relay benchmark on loopback: a host (TCP, Noise, yamux) with our gossipsub under Waku's
/// options; with a store, Waku relay as the node runs it (RelayValidator, RelayIngest into RocksDB in a temp folder).</summary>
internal sealed class RelayBenchNode : IAsyncDisposable
{
    public const string Topic = "/waku/2/rs/16/32";

    RelayBenchNode(Libp2pHost host, GossipsubRouter router, RelayStack? relay)
    {
        Host = host;
        Router = router;
        Relay = relay;
    }

    public Libp2pHost Host { get; }

    public GossipsubRouter Router { get; }

    /// <summary>Validator, group commit and store; null for a load-generating peer (no validator, nothing stored).</summary>
    public RelayStack? Relay { get; }

    /// <summary>The listen address (with /p2p/).</summary>
    public string Address => Host.ListenAddresses[0].ToString();

    /// <summary>Waku's router options, with loopback exempt from P6: all benchmark peers share 127.0.0.1.</summary>
    public static GossipsubOptions RouterOptions
    {
        get
        {
            var waku = GossipsubOptions.Waku;
            return waku with
            {
                MessageId = RelayMessageId.Function,
                Score = waku.Score with { IpColocationFactorWhitelist = new HashSet<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback } },
            };
        }
    }

    public static async Task<RelayBenchNode> StartAsync(bool store, CancellationToken ct)
    {
        var host = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() });
        await host.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], ct);
        var router = new GossipsubRouter(host, RouterOptions);
        var relay = store ? new RelayStack(router) : null;
        router.Start();
        if (relay is null) router.Subscribe(Topic);
        else relay.Relay.Subscribe(Topic);
        return new RelayBenchNode(host, router, relay);
    }

    public async ValueTask DisposeAsync()
    {
        await Router.DisposeAsync();
        if (Relay is not null) await Relay.DisposeAsync();
        await Host.DisposeAsync();
    }
}

/// <summary>Waku relay over a router as the node wires it, storing into a fresh RocksDB store.</summary>
internal sealed class RelayStack : IAsyncDisposable
{
    public RelayStack(GossipsubRouter router)
    {
        var served = new ServedTopics([RelayBenchNode.Topic]);
        var ingress = new MessageIngress(Store.Store, MessageValidator.Default, served, Metrics, NullLogger<MessageIngress>.Instance,
            new CommunityPolicy(served));
        Ingest = new RelayIngest(Store.Store, Metrics, RelayMetrics, NullLogger<RelayIngest>.Instance);
        var options = new RelayOptions(16, RlnRequired: false);
        var validator = new RelayValidator(options, MessageValidator.Default, ingress, Ingest, new RecentHashes(), RelayMetrics,
            NullLogger<RelayValidator>.Instance);
        Relay = new WakuRelay(router, options, validator, RelayMetrics, NullLogger<WakuRelay>.Instance);
    }

    public TempStore Store { get; } = new();
    public WakuMetrics Metrics { get; } = new();
    public RelayMetrics RelayMetrics { get; } = new();
    public RelayIngest Ingest { get; }
    public WakuRelay Relay { get; }

    public MessageStore MessageStore => Store.Store;

    public async ValueTask DisposeAsync()
    {
        Relay.Dispose();
        await Ingest.StopAsync();
        Store.Dispose();
        Metrics.Dispose();
        RelayMetrics.Dispose();
    }
}
