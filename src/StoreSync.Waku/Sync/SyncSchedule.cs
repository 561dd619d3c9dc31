using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identify;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multistream;
using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;
using StoreSync.Reconciliation.Nwaku;
using StoreSync.Storage.Retention;
using StoreSync.Storage.Sync;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Peers;
using StoreSync.Waku.Sync.Backfill;

namespace StoreSync.Waku.Sync;

/// <summary>The per-peer sync schedule: whom to reconcile which scopes with and when, with static store peers and with every
/// peer that announces a sync protocol in identify (spec/sync.md §5.6).</summary>
/// <remarks>
/// Each peer has two windows: the recent one, [now − range − jitter, now − jitter), every <see cref="SyncScheduleOptions.Interval"/>,
/// and the whole history, [horizon, now − jitter), every <see cref="SyncScheduleOptions.HistoryInterval"/> (native peers only:
/// an nwaku peer's sync storage holds only its own last range, so older history would always look missing there). Both are due
/// at once at start-up and whenever a peer (re)connects. Next runs are spread by ±<see cref="ScheduleSpread"/> so peers do not
/// synchronise their timers; at most <see cref="SyncScheduleOptions.MaxConcurrentPeers"/> peers sync at a time; a failing peer
/// backs off; a session that hit the difference cap is followed by another soon (backfill of a node far behind). A scope a
/// storage limit bounds has its whole history walked newest first (<see cref="BackfillWalk"/>). A node far behind its peers
/// fills by swarm backfill from all of them at once instead (<see cref="Swarm"/>, spec/sync.md §5.7).
/// </remarks>
public sealed class SyncSchedule(Libp2pHost host, SyncScheduleOptions options, SyncIndexes indexes, PeerPenalties penalties, StoreSyncClient client,
    ILogger logger, ICommunityPolicy? policy = null, SyncHorizon? horizon = null)
{
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
    readonly BackfillWalk? _backfill = horizon is null ? null : new BackfillWalk(client, horizon, logger);
    CancellationTokenSource? _stopping;
    Task? _loop, _swarmRun;

    /// <summary>Decides when the node is far enough behind to fill by swarm backfill from every peer, and runs it (null: never).</summary>
    public BackfillTrigger? Swarm { get; init; }

    sealed class PeerSchedule
    {
        public DateTimeOffset RecentDue, HistoryDue;
        public bool Running, NwakuOnly;
        /// <summary>The swarm trigger was consulted since the whole history became due.</summary>
        public bool SwarmChecked;
        public int Failures;
        public DateTimeOffset? LastSync;
    }

    TimeSpan Interval => options.Interval;
    TimeSpan HistoryInterval => options.HistoryInterval;

    /// <summary>Peers the node reconciles with now.</summary>
    public int PeerCount => _peers.Count;

    /// <summary>Starts the schedule: the static peers (their addresses already known to the host) are due at once, identified
    /// peers as they come.</summary>
    public void Start(IEnumerable<PeerId> staticPeers)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var peer in staticPeers)
        {
            _static.Add(peer);
            _peers[peer] = new PeerSchedule { RecentDue = now, HistoryDue = now };
        }
        host.PeerIdentified += OnIdentified;
        host.PeerDisconnected += OnDisconnected;
        _stopping = new CancellationTokenSource();
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    static bool AnnouncesSync(IdentifyInfo info) =>
        SpeaksNative(info) || info.Protocols.Contains(NwakuReconciliation.ProtocolId);

    static bool SpeaksNative(IdentifyInfo info) => NativeReconciliation.ProtocolIds.Any(info.Protocols.Contains);

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
            schedule.SwarmChecked = false;
            schedule.Failures = 0;
            schedule.NwakuOnly = !SpeaksNative(info);
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
            // While a swarm backfill runs, its sessions are the sync: one of the schedule's own would announce what it fetches.
            if (_swarmRun is { IsCompleted: false } || StartSwarmIfDue(now, running, ct))
            {
                try { await _wake.WaitAsync(Tick, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
                continue;
            }
            var due = _peers
                .Where(p => !p.Value.Running && (p.Value.RecentDue <= now || p.Value.HistoryDue <= now) && !penalties.IsBanned(p.Key))
                .OrderBy(p => p.Value.RecentDue < p.Value.HistoryDue ? p.Value.RecentDue : p.Value.HistoryDue)
                .Take(Math.Max(0, options.MaxConcurrentPeers - running.Count))
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
        if (_swarmRun is not null) await _swarmRun.ConfigureAwait(false);
    }

    bool NativeHistoryDue(PeerSchedule s, DateTimeOffset now) => !s.Running && !s.NwakuOnly && s.HistoryDue <= now;

    // A native peer's whole history is due and the trigger was not asked since: asked now, locally first (cheap); when it may
    // apply, the running peers finish, then the swarm backfill runs with every native peer and the schedule resumes after it.
    bool StartSwarmIfDue(DateTimeOffset now, List<Task> running, CancellationToken ct)
    {
        if (Swarm is null) return false;
        var fresh = _peers.Values.Where(s => NativeHistoryDue(s, now) && !s.SwarmChecked).ToList();
        if (fresh.Count == 0) return false;
        foreach (var s in fresh) s.SwarmChecked = true;
        var scopes = ScopesToSync().ToList();
        if (!Swarm.MayApply(scopes)) return false;
        var before = running.ToArray();
        running.Clear();
        _swarmRun = Task.Run(async () =>
        {
            await Task.WhenAll(before).ConfigureAwait(false);
            var peers = _peers.Where(p => !p.Value.NwakuOnly && !penalties.IsBanned(p.Key)).Select(p => p.Key).ToList();
            try
            {
                var (ran, finished) = await Swarm.RunAsync(peers, scopes, Timestamp.Now() - options.RelayJitter.Ticks * 100, ct).ConfigureAwait(false);
                if (ran > 0) logger.LogInformation("Store sync: {Ran} swarm backfills ran ({Finished} finished); the schedule goes on", ran, finished);
            }
            catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException) { }
            catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
            {
                logger.LogWarning("Store sync: a swarm backfill stopped: {Reason}", e.Message);
            }
            // What arrived meanwhile is found by the peers' next runs; the trigger is not asked again until a history run is due anew.
            foreach (var s in _peers.Values) s.SwarmChecked = true;
            _wake.Release();
        }, CancellationToken.None);
        return true;
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
        long end = Timestamp.Now() - options.RelayJitter.Ticks * 100;
        long recentStart = end - options.Range.Ticks * 100;
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
                var result = history && _backfill is not null && _backfill.Applies(scope)
                    ? await _backfill.RunAsync(peer, scope, end, modes, ct).ConfigureAwait(false)
                    : await client.SyncAsync(peer, scope, start, end, modes, ct).ConfigureAwait(false);
                if (result is null) continue;
                if (history) Swarm?.Observe(scope, result);
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
                if (history) (schedule.HistoryDue, schedule.SwarmChecked) = (now + backoff, false);
            }
            else
            {
                schedule.Failures = 0;
                schedule.LastSync = now;
                schedule.RecentDue = capped ? now + TimeSpan.FromSeconds(1) : now + Spread(Interval);
                if (history) (schedule.HistoryDue, schedule.SwarmChecked) = (capped ? now + TimeSpan.FromSeconds(1) : now + Spread(HistoryInterval), false);
            }
        }
        if (failure is not null && sessions == 0)
            logger.LogInformation("Store sync with {Peer} failed: {Reason}; retrying in {Seconds:0} s", peer, failure, (schedule.RecentDue - now).TotalSeconds);
        else
            logger.LogInformation("Store sync with {Peer} ({Window}): {Sessions} sessions, {RoundTrips} round trips, {ToFetch} to fetch, {ToSend} sent, {Out} B out, {In} B in{Capped}",
                peer, history ? "whole history" : "recent window", sessions, roundTrips, toFetch, toSend, bytesOut, bytesIn, capped ? "; more to do, again in 1 s" : "");
        _wake.Release();
    }

    /// <summary>What to reconcile with each peer: the community policy's scopes (every served pubsub topic on a node without
    /// communities), one session per pubsub topic where a scope covers whole topics (answered from the live indexes), one per
    /// scope where it names content topics (answered from that community's live index, §5.2).</summary>
    public IEnumerable<SyncScope> ScopesToSync()
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

    /// <summary>Stops the schedule and waits for the peers syncing now.</summary>
    public async Task StopAsync()
    {
        host.PeerIdentified -= OnIdentified;
        host.PeerDisconnected -= OnDisconnected;
        _stopping?.Cancel();
        if (_loop is not null) await _loop.ConfigureAwait(false);
        _stopping?.Dispose();
    }
}
