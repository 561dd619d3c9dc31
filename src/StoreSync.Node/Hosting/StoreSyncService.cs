using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Storage.Retention;
using StoreSync.Storage.Sync;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Governor;
using StoreSync.Waku.Peers;
using StoreSync.Waku.Store;
using StoreSync.Waku.Sync;
using StoreSync.Waku.Sync.Backfill;

namespace StoreSync.Node.Hosting;

/// <summary>Store sync in the node: builds the sync indexes at start, serves both reconciliation protocols and transfer, and
/// runs the per-peer <see cref="SyncSchedule"/> with the static store peers and every peer that announces sync (spec/sync.md §5.6).</summary>
/// <remarks>The hosted service only starts, stops, wires and logs; what is synced with whom and when is the schedule's.</remarks>
public sealed class StoreSyncService(Libp2pHost host, NodeOptions options, SyncIndexes indexes, ReconciliationService reconciliation,
    TransferService transfer, PeerPenalties penalties, StoreSyncClient client, SyncMetrics metrics,
    ILogger<StoreSyncService> logger, ICommunityPolicy? policy = null, SyncHorizon? horizon = null, BackfillRegistry? backfills = null,
    SyncSessions? sessions = null, IResourceGovernor? governor = null) : IHostedService
{
    SyncSchedule? _schedule;
    bool _started;

    /// <summary>The scopes the node syncs now (empty while store sync is off or not started).</summary>
    public IEnumerable<Reconciliation.SyncScope> ScopesToSync() => _schedule?.ScopesToSync() ?? [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        penalties.Attach(host, logger);
        if (!options.StoreSync)
        {
            logger.LogInformation("Store sync is off (--store-sync false)");
            return;
        }
        // Before the network starts, so that every peer's first identify already lists the sync protocols.
        await Task.Run(() => indexes.Build(logger), cancellationToken).ConfigureAwait(false);
        // The community scopes' own indexes too, still before the network: loaded from their files after a clean stop (the store
        // is not written yet), and a peer's first community session already finds them.
        var schedule = new SyncSchedule(host, ScheduleOptions(options), indexes, penalties, client, logger, policy, horizon) { Swarm = SwarmTrigger() };
        await Task.Run(() => { foreach (var _ in schedule.ScopesToSync()) { } }, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Sync indexes of {Topics} pubsub topics built in {Seconds:0.000} s ({Messages} messages), {Communities} community scope indexes",
            indexes.PubsubTopics.Count, indexes.BuildTime.TotalSeconds, indexes.Indexes.Sum(i => i.Count), indexes.CommunityIndexes.Count);
        metrics.ObserveGauge("storesync_sync_index_messages", "{message}", "Messages in the sync indexes, by pubsub topic (and content topics for a community scope's index)",
            () => indexes.AllIndexes.Select(i => IndexMeasurement(i, i.Count)));
        metrics.ObserveGauge("storesync_sync_index_bytes", "By", "Memory of the sync indexes, by pubsub topic (and content topics for a community scope's index)",
            () => indexes.AllIndexes.Select(i => IndexMeasurement(i, i.MemoryBytes)));
        metrics.ObserveGauge("storesync_sync_index_build_seconds", "s", "Time the sync indexes took to build at start-up", () => [new(indexes.BuildTime.TotalSeconds)]);
        metrics.ObserveGauge("storesync_sync_peers", "{peer}", "Peers the node reconciles with", () => [new(schedule.PeerCount)]);
        if (backfills is not null)
        {
            // Per backfill (one per community or pubsub topic the node fills: a bounded label set).
            static KeyValuePair<string, object?> Name(BackfillReport r) => new("backfill", r.Name);
            metrics.ObserveGauge("storesync_backfill_fraction", "1", "Done fraction of each swarm backfill (by messages once estimated, else by slices)",
                () => backfills.Reports.Select(r => new Measurement<double>(r.Fraction, Name(r))));
            metrics.ObserveGauge("storesync_backfill_remaining_messages", "{message}", "Messages a swarm backfill estimates are still to fetch",
                () => backfills.Reports.Where(r => r.RemainingMessages is not null).Select(r => new Measurement<double>(r.RemainingMessages!.Value, Name(r))));
            metrics.ObserveGauge("storesync_backfill_fetched_messages", "{message}", "Messages a swarm backfill has fetched (all runs)",
                () => backfills.Reports.Select(r => new Measurement<double>(r.Messages, Name(r))));
            metrics.ObserveGauge("storesync_backfill_fetched_bytes", "By", "Transfer bytes a swarm backfill has received (all runs)",
                () => backfills.Reports.Select(r => new Measurement<double>(r.Bytes, Name(r))));
        }
        reconciliation.Attach(host);
        transfer.Attach(host);
        _schedule = schedule;
        // `storesync backfill` runs one swarm backfill and no schedule: the schedule's own sessions would fetch the same slices.
        if (options.BackfillPeers.Count > 0)
        {
            logger.LogInformation("Store sync: a one-shot swarm backfill from {Peers} peers, no sync schedule", options.BackfillPeers.Count);
            return;
        }

        var statics = new List<PeerId>();
        foreach (var text in options.AllStaticNodes())
        {
            if (!Multiaddr.TryParse(text, out var address) || address!.PeerId is not { } peer) continue;
            host.AddAddress(peer, address);
            statics.Add(peer);
        }
        schedule.Start(statics);
        _started = true;
    }

    // The schedule's own swarm backfills (spec/sync.md §5.7): progress under DATA-DIR/backfill as the CLI's, named after the community.
    BackfillTrigger? SwarmTrigger()
    {
        if (horizon is null || sessions is null) return null;
        var swarm = new SwarmBackfill(host, client, transfer, sessions, horizon, logger, backfills, metrics)
        {
            ProgressDirectory = Path.Combine(Path.GetFullPath(options.DataDir), "backfill"),
            Extents = StoreQueryExtents.Of(new StoreQueryClient(host, governor)),
        };
        var communities = (policy as CommunityPolicy)?.Communities ?? [];
        return new BackfillTrigger(swarm, indexes, transfer, logger) { NameOf = scope => BackfillRunner.NameOf(scope, communities) };
    }

    /// <summary>The node's <c>--store-sync-*</c> options as the schedule takes them.</summary>
    static SyncScheduleOptions ScheduleOptions(NodeOptions options) => new()
    {
        Interval = TimeSpan.FromSeconds(options.StoreSyncInterval),
        HistoryInterval = TimeSpan.FromSeconds(options.StoreSyncHistoryInterval),
        Range = TimeSpan.FromSeconds(options.StoreSyncRange),
        RelayJitter = TimeSpan.FromSeconds(options.StoreSyncRelayJitter),
        MaxConcurrentPeers = options.StoreSyncMaxConcurrentPeers,
    };

    static Measurement<double> IndexMeasurement(SyncIndex i, double value) => i.Scope.ContentTopics.Count == 0
        ? new(value, new KeyValuePair<string, object?>("pubsub_topic", i.PubsubTopic))
        : new(value, new KeyValuePair<string, object?>("pubsub_topic", i.PubsubTopic),
            new KeyValuePair<string, object?>("content_topics", string.Join(",", i.Scope.ContentTopics.Order(StringComparer.Ordinal))));

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_schedule is not null && _started) await _schedule.StopAsync().ConfigureAwait(false);
    }
}
