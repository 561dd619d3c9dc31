using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Storage;
using StoreSync.Storage.Retention;
using StoreSync.Storage.Sync;
using StoreSync.Testing.Libp2p;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Governor;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Peers;
using StoreSync.Waku.Sync;

namespace StoreSync.Waku.Tests;

/// <summary>A node's store sync on a real host and a real RocksDB store: indexes, both reconciliation protocols, transfer, penalties.</summary>
public sealed class SyncNode : IAsyncDisposable
{
    public static readonly string[] Served = ["/waku/2/rs/1/0", "/waku/2/rs/1/1"];
    readonly List<SyncSessionResult> _ended = [];

    public TempStore Store { get; } = new();
    public Libp2pHost Host { get; }
    public WakuMetrics Metrics { get; } = new();
    public SyncMetrics SyncMetrics { get; } = new();
    public PeerPenalties Penalties { get; }
    public SyncSessions Sessions { get; }
    public SyncIndexes Indexes { get; }
    public MessageIngress Ingress { get; }
    public ReconciliationRunner Runner { get; }
    public StoreSyncClient Client { get; }
    public TransferService Transfer { get; }
    public SyncHorizon Horizon { get; }
    /// <summary>The store's retention (null: keeps everything); its horizons are the sync horizons.</summary>
    public Evictor? Evictor { get; }
    public PeerId PeerId => Host.PeerId;
    public Multiaddr Address => Host.ListenAddresses[0];

    SyncNode(string[] protocols, SyncNetworkLimits? limits, ICommunityPolicy? policy, RetentionConfiguration? retention, IResourceGovernor? governor)
    {
        // Without the store's own ingress check, so that what sync itself decides from the horizons is what a test sees.
        Evictor = retention is null ? null : new Evictor(Store.Store, retention, new EvictorOptions { RefuseBelowHorizon = false });
        var horizon = Evictor is null ? SyncHorizon.None : new SyncHorizon(Evictor);
        Host = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new PlaintextSecurity() });
        Penalties = new PeerPenalties();
        Penalties.Attach(Host);
        Sessions = new SyncSessions(limits);
        Indexes = new SyncIndexes(Store.Store, Served, limits: limits?.IndexLimits);
        Ingress = new MessageIngress(Store.Store, MessageValidator.Default, new Topics(), Metrics, NullLogger<MessageIngress>.Instance);
        Runner = new ReconciliationRunner(Host, Store.Store, Penalties, SyncMetrics, NullLogger<ReconciliationRunner>.Instance, limits, policy);
        Runner.SessionEnded += r => { lock (_ended) _ended.Add(r); };
        var service = new ReconciliationService(Indexes, Runner, Sessions, Penalties, horizon, SyncMetrics, NullLogger<ReconciliationService>.Instance);
        Horizon = horizon;
        var transfer = Transfer = new TransferService(Ingress, Store.Store, Sessions, Penalties, horizon, SyncMetrics, MessageValidator.DefaultMaxMessageBytes,
            NullLogger<TransferService>.Instance, limits, governor);
        Client = new StoreSyncClient(Host, Indexes, Runner, Sessions, horizon);
        service.Attach(Host);
        // "native": every native version; "native3": 3.0.0 and 2.0.0, as a StoreSync before 4.0.0 serves them; "native2": only
        // 2.0.0, as a StoreSync before 3.0.0 serves it.
        bool native = protocols.Contains("native"), native3 = native || protocols.Contains("native3");
        if (!native) Host.RemoveStreamHandler(Reconciliation.Native.NativeReconciliation.ProtocolId);
        if (!native3) Host.RemoveStreamHandler(Reconciliation.Native.NativeReconciliation.ProtocolIdV3);
        if (!native3 && !protocols.Contains("native2")) Host.RemoveStreamHandler(Reconciliation.Native.NativeReconciliation.ProtocolIdV2);
        if (!protocols.Contains("nwaku")) Host.RemoveStreamHandler(Reconciliation.Nwaku.NwakuReconciliation.ProtocolId);
        transfer.Attach(Host);
    }

    /// <summary>Starts a node; <paramref name="before"/> is stored before its indexes are built (the rest of a test ingests into live indexes).</summary>
    public static async Task<SyncNode> StartAsync(IEnumerable<(string Pubsub, WakuMessage Message)>? before = null, string[]? protocols = null,
        SyncNetworkLimits? limits = null, ICommunityPolicy? policy = null, RetentionConfiguration? retention = null, IResourceGovernor? governor = null)
    {
        var node = new SyncNode(protocols ?? ["native", "nwaku"], limits, policy, retention, governor);
        if (before is not null) node.Store.Store.Ingest(before.Select(m => new IngestItem(m.Pubsub, m.Message)).ToList());
        node.Indexes.Build();
        await node.Host.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], default);
        return node;
    }

    /// <summary>Sessions that ended on this node (either role), in order.</summary>
    public IReadOnlyList<SyncSessionResult> Ended { get { lock (_ended) return [.. _ended]; } }

    public void Ingest(IEnumerable<(string Pubsub, WakuMessage Message)> messages) =>
        Store.Store.Ingest(messages.Select(m => new IngestItem(m.Pubsub, m.Message)).ToList());

    /// <summary>Every stored message hash of a pubsub topic.</summary>
    public HashSet<MessageHash> Hashes(string pubsub)
    {
        var hashes = new HashSet<MessageHash>();
        using var reader = Store.Store.OpenTimeIndex(pubsub, long.MinValue, MessageHash.Zero, forward: true);
        while (reader.MoveNext()) hashes.Add(reader.Current.Hash);
        return hashes;
    }

    /// <summary>A bare libp2p host (no Waku protocol of its own) that knows this node's address: a peer a test drives stream by
    /// stream and frame by frame. The caller disposes it.</summary>
    public async Task<Libp2pHost> StartRawPeerAsync()
    {
        var peer = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new PlaintextSecurity() });
        await peer.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], default);
        peer.AddAddress(PeerId, Address);
        return peer;
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Store.Dispose();
        Metrics.Dispose();
        SyncMetrics.Dispose();
    }

    sealed class Topics : IServedTopics
    {
        public bool Serves(string pubsubTopic) => Served.Contains(pubsubTopic);
        public IReadOnlyCollection<string> PubsubTopics => Served;
    }
}
