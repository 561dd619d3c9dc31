namespace StoreSync.Waku.Sync.Backfill;

/// <summary>
/// Which peer fetches which slice of a scope's history next, in a swarm backfill (spec/sync.md §5.7): pure, no I/O, so the
/// property tests drive it through random holdings and failures.
/// </summary>
/// <remarks>
/// <para>Every slice must be reconciled once with every live peer: that, and only that, guarantees the union, since a peer's
/// holdings are learned only by reconciling with it. The first peer on a slice fetches most of it; each later one fetches only
/// what it alone holds there (one round trip when it holds nothing more).</para>
/// <para>A slice is worked on by one peer at a time. A session with a peer pushes only what the store lacks when the session
/// runs, so if the previous peer's transfer is complete (the driver waits for it) no message is ever fetched from two peers.</para>
/// <para>Each free peer takes the newest slice it has not done, that nobody works on and that is not complete: the present
/// arrives first, and with three peers the three newest slices are fetched at once.</para>
/// <para>A peer that fails on a slice (slow, stopped) gives it back; after <see cref="MaxAttempts"/> failures there it gives up
/// that slice, so a backfill always ends. A peer that goes away no longer counts. A slice wholly at or below the retention
/// horizon (<see cref="RaiseHorizon"/>) is complete: the store refuses what it holds, so under a storage limit the backfill ends
/// with the newest messages the limit keeps.</para>
/// Not thread-safe: the driver serialises calls.
/// </remarks>
public sealed class BackfillPlan<TPeer> where TPeer : notnull
{
    /// <summary>Failed attempts of one peer on one slice after which that peer gives the slice up.</summary>
    public const int MaxAttempts = 3;

    readonly BackfillSlice[] _slices;
    readonly bool[] _busy;
    readonly Dictionary<TPeer, PeerState> _peers = [];
    long _horizon = long.MinValue;

    sealed class PeerState(int slices)
    {
        public readonly bool[] Done = new bool[slices];
        public readonly byte[] Failures = new byte[slices];
        public int Current = -1;
    }

    /// <param name="newestFirst">Disjoint slices, each older than the one before.</param>
    /// <exception cref="ArgumentException">Empty, unordered or overlapping slices.</exception>
    public BackfillPlan(IReadOnlyList<BackfillSlice> newestFirst)
    {
        ArgumentNullException.ThrowIfNull(newestFirst);
        for (int i = 0; i < newestFirst.Count; i++)
        {
            if (newestFirst[i].To <= newestFirst[i].From) throw new ArgumentException($"slice {i} [{newestFirst[i].From}, {newestFirst[i].To}) is empty", nameof(newestFirst));
            if (i > 0 && newestFirst[i].To > newestFirst[i - 1].From) throw new ArgumentException($"slice {i} is not older than slice {i - 1}", nameof(newestFirst));
        }
        _slices = [.. newestFirst];
        _busy = new bool[_slices.Length];
    }

    public IReadOnlyList<BackfillSlice> Slices => _slices;

    /// <summary>The peers that count (added and not gone).</summary>
    public IEnumerable<TPeer> Peers => _peers.Keys;

    /// <summary>A peer joins: every slice not below the horizon must now be reconciled with it too. A known peer is unchanged.</summary>
    public void AddPeer(TPeer peer) => _peers.TryAdd(peer, new PeerState(_slices.Length));

    /// <summary>A peer goes away: the slice it worked on is free again, and what it has not done no longer holds anything up.</summary>
    public void RemovePeer(TPeer peer)
    {
        if (!_peers.Remove(peer, out var state)) return;
        if (state.Current >= 0) _busy[state.Current] = false;
    }

    /// <summary>The newest slice <paramref name="peer"/> should fetch now; false when it has nothing to do at the moment (all
    /// its slices done, given up, or taken by others).</summary>
    /// <exception cref="InvalidOperationException">The peer already works on a slice.</exception>
    public bool TryTake(TPeer peer, out int slice)
    {
        slice = -1;
        if (!_peers.TryGetValue(peer, out var state)) return false;
        if (state.Current >= 0) throw new InvalidOperationException($"peer {peer} already works on slice {state.Current}");
        for (int i = 0; i < _slices.Length; i++)
        {
            if (_busy[i] || state.Done[i] || state.Failures[i] >= MaxAttempts || BelowHorizon(i)) continue;
            _busy[i] = true;
            state.Current = slice = i;
            return true;
        }
        return false;
    }

    /// <summary>The peer's session over the slice completed and its transfer arrived: the slice holds nothing more from it.</summary>
    public void Complete(TPeer peer, int slice) => Release(peer, slice).Done[slice] = true;

    /// <summary>The peer gives the slice back without having failed (its session stopped at the difference cap after fetching
    /// part of it): it or another peer goes on with the rest.</summary>
    public void Return(TPeer peer, int slice) => Release(peer, slice);

    /// <summary>Marks slices done with a peer without a session (resumed from persisted progress).</summary>
    public void MarkDone(TPeer peer, int slice)
    {
        AddPeer(peer);
        _peers[peer].Done[slice] = true;
    }

    /// <summary>The peer's attempt on the slice failed (timed out, slow, stream closed): another peer, or it again later, retries.</summary>
    public void Fail(TPeer peer, int slice)
    {
        var state = Release(peer, slice);
        if (state.Failures[slice] < byte.MaxValue) state.Failures[slice]++;
    }

    PeerState Release(TPeer peer, int slice)
    {
        if (!_peers.TryGetValue(peer, out var state) || state.Current != slice)
            throw new InvalidOperationException($"peer {peer} does not work on slice {slice}");
        state.Current = -1;
        _busy[slice] = false;
        return state;
    }

    /// <summary>The store's retention horizon rose to <paramref name="horizon"/> (ns): slices wholly below it are complete.</summary>
    public void RaiseHorizon(long horizon) => _horizon = Math.Max(_horizon, horizon);

    bool BelowHorizon(int slice) => _slices[slice].To <= _horizon;

    /// <summary>Whether the slice needs no more sessions: below the horizon, or done (or given up) with every peer that counts.</summary>
    public bool IsComplete(int slice)
    {
        if (BelowHorizon(slice)) return true;
        foreach (var state in _peers.Values)
            if (!state.Done[slice] && state.Failures[slice] < MaxAttempts) return false;
        return true;
    }

    /// <summary>Whether <paramref name="peer"/> has done the slice (a completed session, or persisted progress).</summary>
    public bool IsDone(TPeer peer, int slice) => _peers.TryGetValue(peer, out var state) && state.Done[slice];

    /// <summary>Every slice complete: the backfill is over.</summary>
    public bool IsFinished
    {
        get
        {
            for (int i = 0; i < _slices.Length; i++)
                if (!IsComplete(i)) return false;
            return true;
        }
    }

    /// <summary>Slices complete so far.</summary>
    public int CompletedSlices
    {
        get
        {
            int n = 0;
            for (int i = 0; i < _slices.Length; i++)
                if (IsComplete(i)) n++;
            return n;
        }
    }

    /// <summary>Slices some peer works on now.</summary>
    public int BusySlices => _busy.Count(b => b);
}
