using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multistream;
using StoreSync.Reconciliation;
using StoreSync.Storage.Sync;

namespace StoreSync.Waku.Sync.Backfill;

/// <summary>When the node's own sync schedule fills a scope by swarm backfill instead of whole-history sessions, and the run
/// itself (spec/sync.md §5.7, "Started by the schedule").</summary>
/// <remarks>
/// A scope is filled by swarm when (1) a backfill of it was interrupted (its progress file exists: resumed, kill -9 included),
/// (2) a whole-history session with a peer stopped at its difference cap (the node is more than a cap behind that peer), or
/// (3) the store holds nothing of the scope from the last <see cref="StaleAfter"/> before a peer's newest message (empty, or
/// stale): checked locally first (the sync index's rank of now − <see cref="StaleAfter"/>), and only then asked of the peers.
/// </remarks>
public sealed class BackfillTrigger(SwarmBackfill swarm, SyncIndexes indexes, TransferService transfer, ILogger logger)
{
    /// <summary>A store that holds nothing of a scope from this long before a peer's newest message is filled by swarm.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromDays(1);

    /// <summary>How long a peer's pushes (of a capped session) must pause before the swarm starts, and the longest wait for it.</summary>
    static readonly TimeSpan PushesQuiet = TimeSpan.FromSeconds(2), MaxPushesWait = TimeSpan.FromMinutes(5);

    readonly ConcurrentDictionary<SyncScope, PeerId> _farBehind = new();

    /// <summary>What a scope's backfill is called in logs, metrics and the dashboard (default: its pubsub topics).</summary>
    public Func<SyncScope, string> NameOf { get; init; } = scope => string.Join(",", scope.PubsubTopics);

    /// <summary>The schedule's whole-history session over <paramref name="scope"/> ended: one that stopped at its difference cap
    /// makes the next run of that scope a swarm backfill.</summary>
    public void Observe(SyncScope scope, SyncSessionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Mode == SyncMode.Native && result.DifferenceCapReached) _farBehind[scope] = result.Peer;
    }

    /// <summary>Whether the trigger may have work without asking the peers: a progress file, a capped session, or a scope with
    /// nothing stored since now − <see cref="StaleAfter"/>.</summary>
    public bool MayApply(IEnumerable<SyncScope> scopes) => scopes.Any(s => Saved(s) || _farBehind.ContainsKey(s) || StoredSince(s, Timestamp.Now() - StaleAfter.Ticks * 100) == 0);

    /// <summary>Fills by swarm, one after the other, those of <paramref name="scopes"/> that need it, from <paramref name="peers"/>.</summary>
    /// <returns>How many swarm backfills ran and how many of them finished.</returns>
    public async Task<(int Ran, int Finished)> RunAsync(IReadOnlyList<PeerId> peers, IEnumerable<SyncScope> scopes, long end, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(scopes);
        int ran = 0, finished = 0;
        if (peers.Count == 0) return (0, 0);
        foreach (var scope in scopes)
        {
            if (ct.IsCancellationRequested) break;
            var reason = await ReasonAsync(scope, peers, ct).ConfigureAwait(false);
            if (reason is null) continue;
            string name = NameOf(scope);
            logger.LogInformation("Backfill of {Name} started by the sync schedule from {Peers} peers: {Reason}", name, peers.Count, reason);
            var report = await swarm.RunAsync(name, scope, peers, end, ct).ConfigureAwait(false);
            ran++;
            if (report.Finished) finished++;
        }
        return (ran, finished);
    }

    bool Saved(SyncScope scope) => swarm.ProgressDirectory is { } dir && File.Exists(BackfillProgressFile.PathOf(dir, SwarmBackfill.KeyOf(scope)));

    // Messages of the scope stored at or after `since`; -1 when the scope cannot be read from an index.
    long StoredSince(SyncScope scope, long since)
    {
        try
        {
            var source = indexes.SourceFor(scope);
            return source.Count - source.Rank(SyncItem.At(since));
        }
        catch (SyncProtocolException) { return -1; }
    }

    async Task<string?> ReasonAsync(SyncScope scope, IReadOnlyList<PeerId> peers, CancellationToken ct)
    {
        if (Saved(scope)) return "an interrupted backfill is resumed";
        if (_farBehind.TryRemove(scope, out var capped))
        {
            await PushesPausedAsync(capped, ct).ConfigureAwait(false);
            return $"a whole-history session with {capped} stopped at its difference cap";
        }
        long stale = StaleAfter.Ticks * 100;
        if (StoredSince(scope, Timestamp.Now() - stale) != 0 || swarm.Extents is not { } extents) return null;
        foreach (var peer in peers)
        {
            (long Oldest, long Newest)? e;
            try { e = await extents(peer, scope, ct).ConfigureAwait(false); }
            catch (Exception x) when (!ct.IsCancellationRequested && x is IOException or MultistreamException or TimeoutException or InvalidDataException or OperationCanceledException)
            {
                logger.LogDebug("Backfill check: {Peer} did not say where its history lies ({Reason})", peer, x.Message);
                continue;
            }
            if (e is not { } x2) continue;
            if (StoredSince(scope, x2.Newest - stale) == 0)
                return indexes.SourceFor(scope).Count == 0
                    ? $"nothing of it is stored here, {peer} holds messages up to {x2.Newest}"
                    : $"nothing of it is stored here from the {StaleAfter.TotalHours:0} h before {peer}'s newest message ({x2.Newest})";
        }
        return null;
    }

    // A capped session's messages are still on their way: a swarm session of another peer would announce them again.
    async Task PushesPausedAsync(PeerId peer, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + MaxPushesWait;
        long last = transfer.TotalsOf(peer).Received;
        while (DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(PushesQuiet, ct).ConfigureAwait(false);
            long now = transfer.TotalsOf(peer).Received;
            if (now == last) break;
            last = now;
        }
        await transfer.WhenStoredAsync(peer, swarm.Quiet, ct).ConfigureAwait(false);
    }
}
