using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multistream;
using StoreSync.Reconciliation;
using StoreSync.Storage.Retention;

namespace StoreSync.Waku.Sync.Backfill;

/// <summary>Where a peer's history of a scope starts and ends (timestamps of its oldest and newest message), or null if unknown.</summary>
public delegate Task<(long Oldest, long Newest)?> BackfillExtents(PeerId peer, SyncScope scope, CancellationToken ct);

/// <summary>Fills a scope's history from several peers at once (spec/sync.md §5.7): slices newest first, one peer per slice at a
/// time (<see cref="BackfillPlan{TPeer}"/>), each slice fetched by a reconciliation session whose pushes are awaited and stored
/// before the next peer's session on it; progress persisted (<see cref="BackfillProgressFile"/>), logged and reported.</summary>
/// <remarks>While it runs, sessions the peers start with us are declined (<see cref="SyncSessions.HoldInbound"/>): a peer's
/// own whole-history session would push the slices other peers are fetching.</remarks>
public sealed class SwarmBackfill(Libp2pHost host, StoreSyncClient client, TransferService transfer, SyncSessions sessions, SyncHorizon horizon,
    ILogger logger, BackfillRegistry? registry = null, SyncMetrics? metrics = null)
{
    /// <summary>Slices per peer the history is cut into (so the newest slices are fetched in parallel and a slow peer holds up little).</summary>
    public const int SlicesPerPeer = 16;

    /// <summary>Most slices of one backfill.</summary>
    public const int MaxSlices = 256;

    /// <summary>Failed attempts in a row after which a peer is taken out of the backfill (gone or broken).</summary>
    public const int MaxConsecutiveFailures = 3;

    /// <summary>Slices completed without messages between two saves of the progress file.</summary>
    const int SaveEmptyEvery = 8;

    /// <summary>How long a peer's pushes may pause before its attempt on a slice counts as failed (slow or stopped peer).</summary>
    public TimeSpan Quiet { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often progress is logged and reported.</summary>
    public TimeSpan ReportEvery { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where progress is persisted (null: not persisted).</summary>
    public string? ProgressDirectory { get; init; }

    /// <summary>Asks a peer where its history starts and ends, so the slices cover where the messages are (null: slices over
    /// the whole range from the horizon).</summary>
    public BackfillExtents? Extents { get; init; }

    /// <summary>Called at each report (a CLI's progress bar); must not block.</summary>
    public Action<BackfillReport>? Progress { get; init; }

    sealed class PeerFigures
    {
        public long Messages, Bytes;
        public int Failures, Consecutive, Slices;
        public bool Gone;
        public long Announced, Arrived;   // of the attempt running now
    }

    /// <summary>Fills <paramref name="scope"/> over [horizon, <paramref name="end"/>) from <paramref name="peers"/>.</summary>
    /// <param name="name">What the logs, metrics and dashboard call it (a community's name).</param>
    /// <returns>The final report (<see cref="BackfillReport.Finished"/> false when cancelled or every peer left).</returns>
    /// <param name="drain">When cancelled, no new slice is started; the running ones finish (a graceful stop: nothing is left
    /// half-announced). <paramref name="ct"/> stops at once.</param>
    public async Task<BackfillReport> RunAsync(string name, SyncScope scope, IReadOnlyList<PeerId> peers, long end, CancellationToken ct, CancellationToken drain = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(peers);
        // Held from the start, and the peers' sessions running now end first: one of theirs would push what a slice fetches,
        // and the store changing under it (our slices' writes) makes its frames disagree with ours.
        var holds = peers.Distinct().Select(sessions.HoldInbound).ToList();
        try
        {
            await SessionsEndedAsync(peers, ct).ConfigureAwait(false);
            return await RunHeldAsync(name, scope, peers, end, ct, drain).ConfigureAwait(false);
        }
        finally
        {
            foreach (var h in holds) h.Dispose();
        }
    }

    /// <summary>Longest wait for the sessions running with the peers when a backfill starts.</summary>
    static readonly TimeSpan MaxSessionsWait = TimeSpan.FromSeconds(60);

    async Task SessionsEndedAsync(IReadOnlyList<PeerId> peers, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (peers.Any(p => sessions.ActiveSessions(p) > 0) && deadline.Elapsed < MaxSessionsWait)
            await Task.Delay(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
    }

    async Task<BackfillReport> RunHeldAsync(string name, SyncScope scope, IReadOnlyList<PeerId> peers, long end, CancellationToken ct, CancellationToken drain)
    {
        var key = KeyOf(scope);
        long floor = Math.Max(horizon.StartOf(scope), MessageValidator.EarliestPlausibleTimestamp);
        var saved = ProgressDirectory is null ? null : BackfillProgressFile.TryLoad(ProgressDirectory, key);
        var slices = saved is not null ? Resume(saved, end) : await PlanSlicesAsync(scope, peers, floor, end, ct).ConfigureAwait(false);
        int shift = saved is not null && slices.Length > saved.Slices.Count ? 1 : 0;
        var plan = new BackfillPlan<PeerId>(slices);
        var figures = new Dictionary<PeerId, PeerFigures>();
        foreach (var p in peers.Distinct())
        {
            plan.AddPeer(p);
            figures[p] = new PeerFigures();
            if (saved?.Done.TryGetValue(p.ToString(), out var done) == true)
                foreach (int i in done) plan.MarkDone(p, i + shift);
        }
        long baseMessages = saved?.Messages ?? 0, baseBytes = saved?.Bytes ?? 0;
        var fetchedIn = new long[slices.Length];
        var bytesIn = new long[slices.Length];
        var touched = new bool[slices.Length];
        // The slices above the newest and below the oldest message the peers reported hold little or nothing: left out of the
        // estimate (the one below can span years).
        var edge = new bool[slices.Length];
        if (slices.Length > 2) edge[0] = edge[^1] = true;
        for (int i = 0; i < slices.Length; i++) touched[i] = plan.Peers.Any(p => plan.IsDone(p, i));
        var gate = new Lock();
        var saving = new Lock();   // one writer of the progress file at a time
        int unsaved = 0;
        var clock = Stopwatch.StartNew();
        var wake = new SemaphoreSlim(0);
        if (saved is not null)
            logger.LogInformation("Backfill of {Name} resumed: {Done}/{Slices} slices done, {Messages} messages ({Bytes} B) fetched before", name, plan.CompletedSlices, slices.Length, baseMessages, baseBytes);
        else
            logger.LogInformation("Backfill of {Name} from {Peers} peers: {Slices} slices over [{From}, {To})", name, peers.Count, slices.Length, slices[^1].From, slices[0].To);

        BackfillReport Report(bool finished)
        {
            lock (gate)
            {
                long messages = figures.Values.Sum(f => f.Messages), bytes = figures.Values.Sum(f => f.Bytes);
                // Remaining: the density of the slices fetched so far over the width of the untouched ones, plus what running
                // sessions announced and has not arrived.
                double width = 0, widthUntouched = 0, inTouched = 0, bytesTouched = 0;
                for (int i = 0; i < slices.Length; i++)
                {
                    double w = (double)slices[i].To - slices[i].From;
                    if (touched[i]) { width += w; inTouched += fetchedIn[i]; bytesTouched += bytesIn[i]; }
                    else if (!plan.IsComplete(i) && !edge[i]) widthUntouched += w;
                }
                long pending = figures.Values.Sum(f => Math.Max(0, f.Announced - f.Arrived));
                long? remaining = null, remainingBytes = null;
                if (width > 0 || pending > 0 || plan.IsFinished)
                {
                    remaining = pending + (width > 0 ? (long)(inTouched / width * widthUntouched) : 0);
                    double perMessage = inTouched > 0 ? bytesTouched / inTouched : messages > 0 ? (double)bytes / messages : 0;
                    remainingBytes = (long)(remaining.Value * perMessage);
                }
                double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
                return new BackfillReport
                {
                    Name = name, Messages = baseMessages + messages, Bytes = baseBytes + bytes, RemainingMessages = finished ? 0 : remaining,
                    RemainingBytes = finished ? 0 : remainingBytes, MessagesPerSecond = messages / seconds, BytesPerSecond = bytes / seconds,
                    Elapsed = clock.Elapsed, SlicesDone = plan.CompletedSlices, Slices = slices.Length, Finished = finished,
                    Peers = [.. figures.Select(f => new BackfillPeerReport(f.Key.ToString(), f.Value.Messages, f.Value.Bytes, f.Value.Slices, f.Value.Failures, f.Value.Gone))],
                };
            }
        }

        void Save()
        {
            if (ProgressDirectory is null) return;
            BackfillProgressFile file;
            lock (gate)
            {
                var done = new Dictionary<string, IReadOnlyList<int>>(StringComparer.Ordinal);
                if (saved is not null)
                    foreach (var (p, d) in saved.Done) done[p] = [.. d.Select(i => i + shift)];
                foreach (var p in plan.Peers) done[p.ToString()] = [.. Enumerable.Range(0, slices.Length).Where(i => plan.IsDone(p, i))];
                file = new BackfillProgressFile
                {
                    Scope = key, End = slices[0].To, Slices = slices, Done = done,
                    Messages = baseMessages + figures.Values.Sum(f => f.Messages), Bytes = baseBytes + figures.Values.Sum(f => f.Bytes),
                };
            }
            try { lock (saving) file.Save(ProgressDirectory); }
            catch (IOException e) { logger.LogWarning("Backfill progress of {Name} not saved: {Reason}", name, e.Message); }
        }

        void Publish(BackfillReport report)
        {
            registry?.Update(report);
            try { Progress?.Invoke(report); }
            catch (Exception e) when (e is not OutOfMemoryException) { logger.LogError(e, "A backfill progress handler threw"); }
        }

        async Task WorkAsync(PeerId peer)
        {
            var mine = figures[peer];
            while (!ct.IsCancellationRequested)
            {
                int slice;
                bool took;
                lock (gate)
                {
                    plan.RaiseHorizon(horizon.StartOf(scope));
                    if (plan.IsFinished || mine.Gone || drain.IsCancellationRequested) return;
                    took = plan.TryTake(peer, out slice);
                    mine.Announced = mine.Arrived = 0;
                }
                if (!took)
                {
                    try { await wake.WaitAsync(TimeSpan.FromMilliseconds(250), ct).ConfigureAwait(false); }
                    catch (OperationCanceledException) { return; }
                    continue;
                }
                var (from, to) = slices[slice];
                var before = transfer.TotalsOf(peer);
                SyncSessionResult? result = null;
                string? failure = null;
                using var progress = new CancellationTokenSource();
                var watch = WatchAsync(peer, mine, before, progress.Token);
                try
                {
                    result = await client.SyncAsync(peer, scope, from, to, SyncModes.Native, Quiet, ct).ConfigureAwait(false);
                    lock (gate) mine.Announced = result?.ToReceive ?? 0;
                    if (!await transfer.WhenStoredAsync(peer, Quiet, ct).ConfigureAwait(false)) failure = "its messages were not written in time";
                }
                catch (Exception e) when (!ct.IsCancellationRequested && e is IOException or MultistreamException or TimeoutException or ObjectDisposedException or OperationCanceledException)
                {
                    failure = e.Message;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
                finally
                {
                    await progress.CancelAsync().ConfigureAwait(false);
                    await watch.ConfigureAwait(false);
                }
                bool suspect = failure is not null || result is null || result is { Completed: false, DifferenceCapReached: false } || result.TransferArrived == false;
                if (suspect && !ct.IsCancellationRequested) await DrainAsync(peer).ConfigureAwait(false);
                var after = transfer.TotalsOf(peer);
                long got = after.Stored - before.Stored, gotBytes = after.Bytes - before.Bytes;
                metrics?.BackfillMessages.Add(got);
                metrics?.BackfillBytes.Add(gotBytes);
                bool completed = false;
                lock (gate)
                {
                    mine.Messages += got;
                    mine.Bytes += gotBytes;
                    mine.Announced = mine.Arrived = 0;
                    fetchedIn[slice] += got;
                    bytesIn[slice] += gotBytes;
                    if (ct.IsCancellationRequested) { plan.Return(peer, slice); return; }
                    if (failure is null && result is null && to <= horizon.StartOf(scope)) failure = null;   // below the horizon: nothing to do
                    else if (failure is null && result is null) failure = "no session could start (the peer is busy)";
                    else if (failure is null && result is { Completed: false, DifferenceCapReached: false }) failure = result.Error ?? "the session stopped";
                    else if (failure is null && result?.TransferArrived == false) failure = $"its pushes stopped for {Quiet.TotalSeconds:0} s";
                    if (failure is not null)
                    {
                        plan.Fail(peer, slice);
                        mine.Failures++;
                        if (++mine.Consecutive >= MaxConsecutiveFailures || host.FindConnection(peer) is null && mine.Consecutive >= 2)
                        {
                            mine.Gone = true;
                            plan.RemovePeer(peer);
                        }
                    }
                    else if (result?.DifferenceCapReached == true) { plan.Return(peer, slice); mine.Consecutive = 0; touched[slice] = true; }
                    else
                    {
                        plan.Complete(peer, slice);
                        mine.Consecutive = 0;
                        mine.Slices++;
                        touched[slice] = true;
                        completed = true;
                    }
                }
                if (failure is not null)
                    logger.LogInformation("Backfill of {Name}: slice {Slice} from {Peer} failed ({Reason}){Gone}", name, slice, peer, failure,
                        mine.Gone ? "; the peer is taken out of this backfill, the others go on" : "; it is planned again");
                // A slice that brought messages is saved at once; empty ones in eights (redoing one costs a round trip).
                if (completed && (got > 0 || Interlocked.Increment(ref unsaved) % SaveEmptyEvery == 0)) Save();
                wake.Release(figures.Count);
            }
        }

        // A failed attempt's pushes may still be on their way (a session that timed out on our side while the peer kept
        // pushing): they land before the slice is planned again, so that another peer is not asked for them too. Bounded by Quiet;
        // then the peer's transfer streams are reset (TransferService.FenceAsync), so nothing of the attempt arrives after the
        // slice is given back, and the attempt's announcements expire, so a retry by the same peer counts its own deliveries.
        async Task DrainAsync(PeerId peer)
        {
            long deadline = Environment.TickCount64 + (long)Quiet.TotalMilliseconds;
            long last = transfer.TotalsOf(peer).Received;
            try
            {
                while (Environment.TickCount64 < deadline)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(300), ct).ConfigureAwait(false);
                    long now = transfer.TotalsOf(peer).Received;
                    if (now == last) break;
                    last = now;
                }
                var (reset, _) = await transfer.FenceAsync(peer, TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)), ct).ConfigureAwait(false);
                if (reset > 0) logger.LogInformation("Backfill of {Name}: {Streams} transfer stream(s) from {Peer} reset after its failed attempt", name, reset, peer);
            }
            catch (OperationCanceledException) { }
        }

        // The pushes of the running attempt, for the remaining estimate between sessions.
        async Task WatchAsync(PeerId peer, PeerFigures mine, TransferTotals before, CancellationToken stop)
        {
            try
            {
                while (true)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), stop).ConfigureAwait(false);
                    var now = transfer.TotalsOf(peer);
                    lock (gate) mine.Arrived = now.Received - before.Received;
                }
            }
            catch (OperationCanceledException) { }
        }

        using var reporting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reporter = Task.Run(async () =>
        {
            var last = TimeSpan.Zero;
            try
            {
                while (true)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250), reporting.Token).ConfigureAwait(false);
                    var report = Report(false);
                    Publish(report);
                    if (clock.Elapsed - last >= ReportEvery)
                    {
                        last = clock.Elapsed;
                        logger.LogInformation("Backfill {Report}", report);
                    }
                }
            }
            catch (OperationCanceledException) { }
        }, CancellationToken.None);
        try
        {
            await Task.WhenAll(figures.Keys.Select(p => Task.Run(() => WorkAsync(p), CancellationToken.None))).ConfigureAwait(false);
        }
        finally
        {
            await reporting.CancelAsync().ConfigureAwait(false);
            await reporter.ConfigureAwait(false);
        }
        bool finished;
        lock (gate) finished = plan.IsFinished && !ct.IsCancellationRequested && !drain.IsCancellationRequested;
        var final = Report(finished);
        Publish(final);
        if (finished && ProgressDirectory is not null) BackfillProgressFile.Delete(ProgressDirectory, key);
        else Save();
        logger.LogInformation("Backfill {State} {Report}", finished ? "finished" : "stopped", final);
        return final;
    }

    /// <summary>The name of a scope's progress (<see cref="BackfillProgressFile.Scope"/>).</summary>
    public static string KeyOf(SyncScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return $"{string.Join(",", scope.PubsubTopics)}|{string.Join(",", scope.ContentTopics)}";
    }

    static BackfillSlice[] Resume(BackfillProgressFile saved, long end) =>
        end > saved.End ? [new BackfillSlice(saved.End, end), .. saved.Slices] : [.. saved.Slices];

    // Slices cover [floor, end): equal widths between the oldest and the newest message the peers report (where the history
    // is), one slice above for what arrived since, one below for anything older.
    async Task<BackfillSlice[]> PlanSlicesAsync(SyncScope scope, IReadOnlyList<PeerId> peers, long floor, long end, CancellationToken ct)
    {
        int count = Math.Clamp(SlicesPerPeer * peers.Count, 1, MaxSlices);
        long oldest = long.MaxValue, newest = long.MinValue;
        int answered = 0;
        if (Extents is not null)
        {
            foreach (var peer in peers)
            {
                (long Oldest, long Newest)? e = null;
                try { e = await Extents(peer, scope, ct).ConfigureAwait(false); answered++; }
                catch (Exception x) when (!ct.IsCancellationRequested && x is IOException or MultistreamException or TimeoutException or InvalidDataException or OperationCanceledException)
                {
                    logger.LogInformation("Backfill: {Peer} did not say where its history lies ({Reason})", peer, x.Message);
                }
                if (e is not { } x2) continue;
                oldest = Math.Min(oldest, x2.Oldest);
                newest = Math.Max(newest, x2.Newest);
            }
        }
        if (floor >= end) return [new BackfillSlice(end - 1, end)];
        // Every peer said it holds nothing here: one slice, one round trip each, in case one has received something since.
        if (oldest > newest) return answered == peers.Count ? [new BackfillSlice(floor, end)] : BackfillSlice.Cut(floor, end, count);
        long lo = Math.Clamp(oldest, floor, end - 1), hi = Math.Clamp(newest == long.MaxValue ? newest : newest + 1, lo + 1, end);
        var slices = new List<BackfillSlice>();
        if (hi < end) slices.Add(new BackfillSlice(hi, end));
        slices.AddRange(BackfillSlice.Cut(lo, hi, count));
        if (floor < lo) slices.Add(new BackfillSlice(floor, lo));
        return [.. slices];
    }
}
