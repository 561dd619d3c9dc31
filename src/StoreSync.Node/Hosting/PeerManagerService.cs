using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Waku;
using StoreSync.Waku.Peers;

namespace StoreSync.Node.Hosting;

/// <summary>Runs the node's <see cref="PeerManager"/>: the book read from <c>DATA-DIR/peers.json</c>, the static nodes offered,
/// discv5's discoveries fed in as they come, and the peers by source and capability as gauges (spec/discovery.md, "Peer manager").</summary>
/// <remarks>Started after the network and discv5 services (the host listens, discv5 runs) and so stopped before them: the book
/// is saved while the host is still up.</remarks>
public sealed class PeerManagerService(PeerManager manager, NodeOptions options, Discv5Service discv5, WakuMetrics metrics,
    ILogger<PeerManagerService> logger) : IHostedService
{
    readonly CancellationTokenSource _stopping = new();
    Task? _discv5;

    /// <summary>The book's file in the data folder.</summary>
    public static string BookPath(NodeOptions options) => Path.Combine(Path.GetFullPath(options.DataDir), PeerBookFile.FileName);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.BackfillPeers.Count > 0) return Task.CompletedTask; // `storesync backfill` dials its own peers and nothing else
        RegisterGauges();
        manager.Start();
        foreach (var text in options.AllStaticNodes())
        {
            if (Multiaddr.TryParse(text, out var address) && address!.PeerId is { } peer)
                manager.Offer(new DiscoveredPeer(peer, [address], PeerSources.Static));
            else logger.LogWarning("Ignoring static node '{Address}': not a multiaddr ending in /p2p/<peer id>", text);
        }
        if (discv5.Node is { } node)
            _discv5 = Task.Run(() => FeedFromDiscv5Async(node, _stopping.Token), CancellationToken.None);
        logger.LogInformation("Peer manager: {Peers} peers in the book, targets {Relay} relay ({Out} dialed) and {Service} service peers of {Max} connections, {Sync} store-sync peers",
            manager.Book.Count, manager.Targets.MaxRelayPeers, manager.Targets.OutRelayPeers, manager.Targets.MaxServicePeers, manager.Targets.MaxConnections, manager.Targets.SyncPeers);
        return Task.CompletedTask;
    }

    /// <summary>Every record discv5 finds with a TCP address goes to the book; the book refuses other clusters.</summary>
    async Task FeedFromDiscv5Async(Libp2p.Discovery.Discv5.Discv5Node node, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await foreach (var record in node.DiscoverAsync(HasTcp, ct).ConfigureAwait(false))
                    if (manager.Offer(DiscoveredPeer.FromEnr(record, PeerSources.Discv5)))
                        logger.LogDebug("discv5 found {Peer}", EnrPeerInfo.PeerIdOf(record));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or FormatException)
            {
                logger.LogWarning("discv5 feed of the peer manager stopped: {Reason}; again in 5 s", e.Message);
            }
            try { await Task.Delay(TimeSpan.FromSeconds(5), ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    static bool HasTcp(EnrRecord record) => (record.Ip is not null && record.Tcp is not null) || (record.Ip6 is not null && (record.Tcp6 ?? record.Tcp) is not null);

    void RegisterGauges()
    {
        static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
        metrics.ObserveGauge("storesync_peer_book_peers", "{peer}", "Peers in the peer book, by source (a peer known from several counts in each)",
            () => manager.Counts().BySource.Select(kv => new Measurement<long>(kv.Value.Known, Tag("source", kv.Key))));
        metrics.ObserveGauge("storesync_peers_connected_by_source", "{peer}", "Connected peers, by the source the book knows them from",
            () => manager.Counts().BySource.Select(kv => new Measurement<long>(kv.Value.Connected, Tag("source", kv.Key))));
        metrics.ObserveGauge("storesync_peer_book_capable_peers", "{peer}", "Peers in the peer book, by capability (identify protocols, else the record's waku2 bits)",
            () => manager.Counts().ByCapability.Select(kv => new Measurement<long>(kv.Value.Known, Tag("capability", kv.Key))));
        metrics.ObserveGauge("storesync_peers_connected_by_capability", "{peer}", "Connected peers, by capability",
            () => manager.Counts().ByCapability.Select(kv => new Measurement<long>(kv.Value.Connected, Tag("capability", kv.Key))));
        metrics.ObserveGauge("storesync_relay_peers_per_shard", "{peer}", "Connected relay peers on each shard relay runs on",
            () => manager.Counts().RelayPeersByShard.Select(kv => new Measurement<long>(kv.Value, Tag("shard", kv.Key.ToString(System.Globalization.CultureInfo.InvariantCulture)))));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_discv5 is not null) await _discv5.ConfigureAwait(false);
        await manager.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
