using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identify;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Multistream;
using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;
using StoreSync.Reconciliation.Nwaku;
using StoreSync.Storage.Retention;
using StoreSync.Storage.Sync;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Peers;
using StoreSync.Waku.Sync;

namespace StoreSync.Node.Hosting;

/// <summary>Store sync in the node: builds the sync indexes at start, serves both reconciliation protocols and transfer, and
/// reconciles with static store peers and with every peer that announces a sync protocol in identify (spec/sync.md §5.6).</summary>
/// <remarks>
/// Each peer has two windows: the recent one, [now − range − jitter, now − jitter), every <see cref="NodeOptions.StoreSyncInterval"/>,
/// and the whole history, [horizon, now − jitter), every <see cref="NodeOptions.StoreSyncHistoryInterval"/> (native peers only:
/// an nwaku peer's sync storage holds only its own last range, so older history would always look missing there). Both are due
/// at once at start-up and whenever a peer (re)connects. Next runs are spread by ±<see cref="ScheduleSpread"/> so peers do not
/// synchronise their timers; at most <see cref="NodeOptions.StoreSyncMaxConcurrentPeers"/> peers sync at a time; a failing peer
/// backs off; a session that hit the difference cap is followed by another soon (backfill of a node far behind).
/// </remarks>
public sealed class StoreSyncService(Libp2pHost host, NodeOptions options, SyncIndexes indexes, ReconciliationService reconciliation,
    TransferService transfer, PeerPenalties penalties, StoreSyncClient client, SyncMetrics metrics,
    ILogger<StoreSyncService> logger, ICommunityPolicy? policy = null, SyncHorizon? backfill = null) : IHostedService
{
    /// <summary>The first (newest) window of a backfill walk; each next, older window is twice as long.</summary>
    public static readonly TimeSpan FirstBackfillWindow = TimeSpan.FromHours(1);

    /// <summary>Each next run is the interval times a random factor in [1 − spread, 1 + spread].</summary>
    public const double ScheduleSpread = 0.1;

    /// <summary>How often the scheduler looks for due peers when nothing wakes it.</summary>
    static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);

    /// <summary>Backoff of a failing peer: doubles from this, capped at the recent interval.</summary>
    static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(5);

    /// <summary>How much later the dialed side of a new connection starts its own sync (at most half the interval).</summary>
    static readonly TimeSpan InboundDelay = TimeSpan.FromSeconds(10);

    readonly ConcurrentDictionary<PeerId, PeerSchedule> _peers = new();
    readonly SemaphoreSlim _wake = new(0);
    readonly HashSet<PeerId> _static = [];
    CancellationTokenSource? _stopping;
    Task? _loop;

    sealed class PeerSchedule
    {
        public DateTimeOffset RecentDue, HistoryDue;
        public bool Running, NwakuOnly;
        public int Failures;
        public DateTimeOffset? LastSync;
    }

    TimeSpan Interval => TimeSpan.FromSeconds(options.StoreSyncInterval);
    TimeSpan HistoryInterval => TimeSpan.FromSeconds(options.StoreSyncHistoryInterval);

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
        await Task.Run(() => { foreach (var _ in ScopesToSync()) { } }, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Sync indexes of {Topics} pubsub topics built in {Seconds:0.000} s ({Messages} messages), {Communities} community scope indexes",
            indexes.PubsubTopics.Count, indexes.BuildTime.TotalSeconds, indexes.Indexes.Sum(i => i.Count), indexes.CommunityIndexes.Count);
        metrics.ObserveGauge("storesync_sync_index_messages", "{message}", "Messages in the sync indexes, by pubsub topic (and content topics for a community scope's index)",
            () => indexes.AllIndexes.Select(i => IndexMeasurement(i, i.Count)));
        metrics.ObserveGauge("storesync_sync_index_bytes", "By", "Memory of the sync indexes, by pubsub topic (and content topics for a community scope's index)",
            () => indexes.AllIndexes.Select(i => IndexMeasurement(i, i.MemoryBytes)));
        metrics.ObserveGauge("storesync_sync_index_build_seconds", "s", "Time the sync indexes took to build at start-up", () => [new(indexes.BuildTime.TotalSeconds)]);
        metrics.ObserveGauge("storesync_sync_peers", "{peer}", "Peers the node reconciles with", () => [new(_peers.Count)]);
        reconciliation.Attach(host);
        transfer.Attach(host);

        var now = DateTimeOffset.UtcNow;
        foreach (var text in options.StaticNodes)
        {
            if (!Multiaddr.TryParse(text, out var address) || address!.PeerId is not { } peer) continue;
            host.AddAddress(peer, address);
            _static.Add(peer);
            _peers[peer] = new PeerSchedule { RecentDue = now, HistoryDue = now };
        }
        host.PeerIdentified += OnIdentified;
        host.PeerDisconnected += OnDisconnected;
        _stopping = new CancellationTokenSource();
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    static Measurement<double> IndexMeasurement(SyncIndex i, double value) => i.Scope.ContentTopics.Count == 0
        ? new(value, new KeyValuePair<string, object?>("pubsub_topic", i.PubsubTopic))
        : new(value, new KeyValuePair<string, object?>("pubsub_topic", i.PubsubTopic),
            new KeyValuePair<string, object?>("content_topics", string.Join(",", i.Scope.ContentTopics.Order(StringComparer.Ordinal))));

    static bool AnnouncesSync(IdentifyInfo info) =>
        info.Protocols.Contains(NativeReconciliation.ProtocolId) || info.Protocols.Contains(NwakuReconciliation.ProtocolId);

    // A (re)connected peer is synced at once, both windows: whatever it or we missed while apart is found now. Both ends see the
    // connection; the dialer starts at once and the dialed side a little later, so that its session usually finds nothing left.
    void OnIdentified(Connection connection, IdentifyInfo info)
    {
        if (!AnnouncesSync(info)) return;
        var now = DateTimeOffset.UtcNow;
        if (connection.IsInbound) now += TimeSpan.FromTicks(Math.Min(Interval.Ticks / 2, InboundDelay.Ticks));
        var schedule = _peers.GetOrAdd(connection.RemotePeer, _ => new PeerSchedule());
        lock (schedule)
        {
            schedule.RecentDue = now;
            schedule.HistoryDue = now;
            schedule.Failures = 0;
            schedule.NwakuOnly = !info.Protocols.Contains(NativeReconciliation.ProtocolId);
        }
        _wake.Release();
    }

    void OnDisconnected(Connection connection, string reason)
    {
        if (_static.Contains(connection.RemotePeer) || host.FindConnection(connection.RemotePeer) is not null) return;
        if (_peers.TryGetValue(connection.RemotePeer, out var s) && !s.Running) _peers.TryRemove(connection.RemotePeer, out _);
    }

    async Task RunAsync(CancellationToken ct)
    {
        var running = new List<Task>();
        while (!ct.IsCancellationRequested)
        {
            running.RemoveAll(t => t.IsCompleted);
            var now = DateTimeOffset.UtcNow;
            var due = _peers
                .Where(p => !p.Value.Running && (p.Value.RecentDue <= now || p.Value.HistoryDue <= now) && !penalties.IsBanned(p.Key))
                .OrderBy(p => p.Value.RecentDue < p.Value.HistoryDue ? p.Value.RecentDue : p.Value.HistoryDue)
                .Take(Math.Max(0, options.StoreSyncMaxConcurrentPeers - running.Count))
                .ToList();
            foreach (var (peer, schedule) in due)
            {
                schedule.Running = true;
                running.Add(Task.Run(() => SyncPeerAsync(peer, schedule, ct), CancellationToken.None));
            }
            try { await _wake.WaitAsync(Tick, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    async Task SyncPeerAsync(PeerId peer, PeerSchedule schedule, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        bool history, nwakuOnly;
        lock (schedule)
        {
            history = schedule.HistoryDue <= started && !schedule.NwakuOnly;
            nwakuOnly = schedule.NwakuOnly;
        }
        long end = Timestamp.Now() - TimeSpan.FromSeconds(options.StoreSyncRelayJitter).Ticks * 100;
        long recentStart = end - TimeSpan.FromSeconds(options.StoreSyncRange).Ticks * 100;
        int toFetch = 0, toSend = 0, sessions = 0, roundTrips = 0;
        long bytesOut = 0, bytesIn = 0;
        bool capped = false;
        string? failure = null;
        try
        {
            foreach (var scope in ScopesToSync())
            {
                // The whole history starts at the horizon (the client applies it); the recent window at now − range. Under a
                // storage limit the whole history is walked newest first and stops at the limit (native peers only).
                long start = history ? long.MinValue + 1 : recentStart;
                var modes = nwakuOnly ? SyncModes.Nwaku : SyncModes.Any;
                var result = history && backfill is not null && backfill.IsLimited(scope)
                    ? await BackfillAsync(peer, scope, end, modes, ct).ConfigureAwait(false)
                    : await client.SyncAsync(peer, scope, start, end, modes, ct).ConfigureAwait(false);
                if (result is null) continue;
                if (result.Mode == SyncMode.Nwaku && !nwakuOnly)
                {
                    // Learned only now (a static peer not identified yet): keep to the recent window from here on.
                    nwakuOnly = true;
                    history = false;
                    lock (schedule) schedule.NwakuOnly = true;
                }
                sessions++;
                roundTrips += result.RoundTrips;
                toFetch += result.ToReceive;
                toSend += result.ToSend;
                bytesOut += result.BytesSent + result.TransferBytesSent;
                bytesIn += result.BytesReceived;
                capped |= result.DifferenceCapReached;
                if (!result.Completed && !result.DifferenceCapReached) failure ??= result.Error;
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is IOException or MultistreamException or TimeoutException or ObjectDisposedException or OperationCanceledException)
        {
            failure = e.Message;
        }
        catch (Exception) when (ct.IsCancellationRequested) { return; }
        finally
        {
            lock (schedule) schedule.Running = false;
        }

        var now = DateTimeOffset.UtcNow;
        lock (schedule)
        {
            if (failure is not null && sessions == 0)
            {
                schedule.Failures++;
                var backoff = TimeSpan.FromTicks(Math.Min(Interval.Ticks, FirstBackoff.Ticks << Math.Min(schedule.Failures - 1, 16)));
                schedule.RecentDue = now + backoff;
                if (history) schedule.HistoryDue = now + backoff;
            }
            else
            {
                schedule.Failures = 0;
                schedule.LastSync = now;
                schedule.RecentDue = capped ? now + TimeSpan.FromSeconds(1) : now + Spread(Interval);
                if (history) schedule.HistoryDue = capped ? now + TimeSpan.FromSeconds(1) : now + Spread(HistoryInterval);
            }
        }
        if (failure is not null && sessions == 0)
            logger.LogInformation("Store sync with {Peer} failed: {Reason}; retrying in {Seconds:0} s", peer, failure, (schedule.RecentDue - now).TotalSeconds);
        else
            logger.LogInformation("Store sync with {Peer} ({Window}): {Sessions} sessions, {RoundTrips} round trips, {ToFetch} to fetch, {ToSend} sent, {Out} B out, {In} B in{Capped}",
                peer, history ? "whole history" : "recent window", sessions, roundTrips, toFetch, toSend, bytesOut, bytesIn, capped ? "; more to do, again in 1 s" : "");
        _wake.Release();
    }

    /// <summary>
    /// The whole history of a scope under a storage limit, newest first (issue 6's backfill): windows [end − 1 h, end), then
    /// each older window twice as long, down to the retention horizon; after each window the peer's pushes are awaited, and
    /// the walk stops once the limit is reached (eviction raised the horizon, or a window brought messages and the scope is full). A scope in sync costs one
    /// round trip per window; one far behind fetches its newest history first and no more than about one window beyond its
    /// limit. Returns the figures of all its sessions summed (the last one's outcome), null if none ran.
    /// </summary>
    async Task<SyncSessionResult?> BackfillAsync(PeerId peer, SyncScope scope, long end, SyncModes modes, CancellationToken ct)
    {
        long horizon = backfill!.HighestStartOf(scope), upper = end, width = FirstBackfillWindow.Ticks * 100;
        // Nothing older than the earliest plausible timestamp is ever stored (spec/message.md), so the walk's windows end there:
        // about 17 windows from today, one round trip each when in sync; the last one covers all the rest down to the horizon.
        long floor = Math.Max(horizon, MessageValidator.EarliestPlausibleTimestamp);
        SyncSessionResult? total = null;
        int windows = 0;
        while (upper > floor)
        {
            long lower = upper - floor <= width ? long.MinValue + 1 : upper - width;
            var result = await client.SyncAsync(peer, scope, lower, upper, modes, awaitTransfer: true, ct).ConfigureAwait(false);
            if (result is null) break;
            windows++;
            total = total is null ? result : result with
            {
                FramesSent = total.FramesSent + result.FramesSent, FramesReceived = total.FramesReceived + result.FramesReceived,
                BytesSent = total.BytesSent + result.BytesSent, BytesReceived = total.BytesReceived + result.BytesReceived,
                ToSend = total.ToSend + result.ToSend, ToReceive = total.ToReceive + result.ToReceive,
                Pushed = total.Pushed + result.Pushed, TransferBytesSent = total.TransferBytesSent + result.TransferBytesSent,
                Duration = total.Duration + result.Duration,
            };
            // nwaku mode has no history beyond its peer's range; a failed or capped window is retried by the schedule.
            if (result.Mode == SyncMode.Nwaku || !result.Completed) break;
            // Full and still fetching: eviction takes the oldest next, so older windows would only bring what goes at once. Full
            // but in sync: keep walking (cheap), a gap further back above the horizon is still wanted.
            if (backfill.HighestStartOf(scope) > horizon || (result.ToReceive > 0 && backfill.IsFull(scope)))
            {
                logger.LogInformation("Backfill of [{Pubsub}] × [{Content}] from {Peer} stopped at its storage limit after {Windows} windows (newest first)",
                    string.Join(", ", scope.PubsubTopics), string.Join(", ", scope.ContentTopics), peer, windows);
                break;
            }
            if (lower == long.MinValue + 1) break;
            upper = lower;
            width = width > long.MaxValue / 2 ? long.MaxValue : width * 2;
        }
        return total;
    }

    /// <summary>What to reconcile with each peer: the community policy's scopes (every served pubsub topic on a node without
    /// communities), one session per pubsub topic where a scope covers whole topics (answered from the live indexes), one per
    /// scope where it names content topics (answered from that community's live index, §5.2).</summary>
    IEnumerable<SyncScope> ScopesToSync()
    {
        var seen = new HashSet<SyncScope>();
        foreach (var s in policy?.SyncScopes ?? [SyncScope.All])
        {
            var pubsubs = s.PubsubTopics.Count == 0 ? indexes.PubsubTopics : [.. s.PubsubTopics.Where(indexes.PubsubTopics.Contains)];
            if (pubsubs.Count == 0) continue;
            if (s.ContentTopics.Count == 0 || s.ContentTopics.ToHashSet(StringComparer.Ordinal).SetEquals(indexes.LocalScope.ContentTopics))
            {
                foreach (var p in pubsubs)
                    if (seen.Add(new SyncScope([p], indexes.LocalScope.ContentTopics))) yield return new SyncScope([p], indexes.LocalScope.ContentTopics);
            }
            else if (seen.Add(new SyncScope(pubsubs, s.ContentTopics)))
            {
                // A live index of its own (built on first use, kept), so both sides answer it in O(log n) (spec/sync.md §5.2).
                indexes.Track(new SyncScope(pubsubs, s.ContentTopics), logger);
                yield return new SyncScope(pubsubs, s.ContentTopics);
            }
        }
    }

    static TimeSpan Spread(TimeSpan interval) =>
        TimeSpan.FromTicks((long)(interval.Ticks * (1 - ScheduleSpread + 2 * ScheduleSpread * Random.Shared.NextDouble())));

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        host.PeerIdentified -= OnIdentified;
        host.PeerDisconnected -= OnDisconnected;
        _stopping?.Cancel();
        if (_loop is not null) await _loop.ConfigureAwait(false);
        _stopping?.Dispose();
    }
}
