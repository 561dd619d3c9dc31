using StoreSync.Core;
using StoreSync.Libp2p.Identity;
using StoreSync.Reconciliation;

namespace StoreSync.Waku.Sync;

/// <summary>How a pushed message relates to what reconciliation with its sender announced.</summary>
public enum TransferVerdict
{
    /// <summary>Its hash is one a session with the sender found missing here.</summary>
    Announced,
    /// <summary>Not announced, but inside the range of an nwaku-mode session with the sender (that mode does not tell the side
    /// that had nothing in a range what it will receive, spec/sync.md §2.1).</summary>
    InWindow,
    /// <summary>Nothing announced it: forged, altered (its recomputed hash differs) or unsolicited.</summary>
    Unannounced,
    /// <summary>Nothing announced it, and the sender's last session with us ended in a protocol violation (<see
    /// cref="SyncSessions.SessionLease.Violated"/>), no session since: that fault was penalised once; what the sender pushes for
    /// the broken session is dropped, its stream reset, with no penalty per message.</summary>
    AfterViolation,
}

/// <summary>Sessions running with each peer (bounded per peer and in total) and the messages they told us to expect by transfer.</summary>
/// <remarks>
/// A session's announced hashes and windows stay acceptable while it runs and for <see cref="SyncNetworkLimits.TransferGrace"/>
/// after its last announced message arrived: a transfer paced by a bandwidth limit may take far longer than the grace, and
/// each delivery proves the peer is still working through what the session announced. Memory is bounded by the differences
/// sessions may find (<see cref="SyncNetworkLimits.MaxDifferencesPerSession"/>).
/// Outgoing, the messages queued to a peer by a running session are <em>claimed</em> (<see cref="SessionLease.TryClaimPush"/>):
/// a later session with the same peer that finds them missing again (they are still on their way) does not push them twice.
/// </remarks>
public sealed class SyncSessions(SyncNetworkLimits? limits = null, TimeProvider? clock = null)
{
    readonly SyncNetworkLimits _limits = limits ?? SyncNetworkLimits.Default;
    readonly TimeProvider _clock = clock ?? TimeProvider.System;
    readonly Lock _lock = new();
    readonly Dictionary<PeerId, PeerState> _peers = [];
    readonly HashSet<PeerId> _fenced = [], _violated = [];
    int _inbound, _expectedTotal;

    /// <summary>Peers fenced at once, at most; beyond, the oldest marks are dropped (a fence is a backfill's, of a few peers).</summary>
    const int MaxFenced = 1024;

    /// <summary>Starts a session with <paramref name="peer"/>; null when that peer (or, inbound, all peers together) already runs as many as allowed.</summary>
    public SessionLease? TryBegin(PeerId peer, bool inbound)
    {
        lock (_lock)
        {
            if (_peers.Count > SweepAbove) Sweep();
            _fenced.Remove(peer);
            _violated.Remove(peer);
            var state = StateOf(peer);
            Prune(state);
            if (state.Sessions >= _limits.MaxSessionsPerPeer) return null;
            if (inbound && _inbound >= _limits.MaxInboundSessions) return null;
            state.Sessions++;
            state.Reconciling++;
            if (inbound) _inbound++;
            state.Reconciled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return new SessionLease(this, peer, state, inbound);
        }
    }

    /// <summary>Sessions with <paramref name="peer"/> running now.</summary>
    public int ActiveSessions(PeerId peer)
    {
        lock (_lock) return _peers.TryGetValue(peer, out var s) ? s.Sessions : 0;
    }

    /// <summary>Sessions with <paramref name="peer"/> that have not registered what they announce yet (still reconciling).</summary>
    public int ReconcilingSessions(PeerId peer)
    {
        lock (_lock) return _peers.TryGetValue(peer, out var s) ? s.Reconciling : 0;
    }

    void MarkReconciled(SessionLease lease)
    {
        lock (_lock)
        {
            if (lease.HasReconciled) return;
            lease.HasReconciled = true;
            var state = lease.State;
            if (--state.Reconciling == 0)
            {
                state.Reconciled?.TrySetResult();
                state.Reconciled = null;
            }
        }
    }

    readonly System.Collections.Concurrent.ConcurrentDictionary<PeerId, int> _held = new();

    /// <summary>While the returned handle lives, reconciliation sessions <paramref name="peer"/> starts with us are declined (a
    /// swarm backfill fetches from it slice by slice: a whole-history session of the peer's own would push the same messages).</summary>
    public IDisposable HoldInbound(PeerId peer)
    {
        _held.AddOrUpdate(peer, 1, (_, n) => n + 1);
        return new Hold(this, peer);
    }

    /// <summary>Whether sessions the peer starts are declined now (<see cref="HoldInbound"/>).</summary>
    public bool IsHeld(PeerId peer) => _held.TryGetValue(peer, out int n) && n > 0;

    sealed class Hold(SyncSessions owner, PeerId peer) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) owner._held.AddOrUpdate(peer, 0, (_, n) => n - 1);
        }
    }

    /// <summary>Judges a pushed message by what sessions with its sender announced.</summary>
    public TransferVerdict Check(PeerId peer, string pubsubTopic, in MessageHash hash, long timestamp)
    {
        lock (_lock) return CheckLocked(peer, pubsubTopic, hash, timestamp);
    }

    /// <summary>As <see cref="Check"/>; a message nothing announced while a session with its sender is still reconciling waits
    /// (at most <paramref name="wait"/>) until none is, then is judged again. The peer may push as soon as it knows what we
    /// lack, before our side of the session has registered it.</summary>
    /// <remarks>The judgement and the look at the reconciling sessions are one step under the lock: taken apart, a session could
    /// register its announcements and finish reconciling between the two, and its own push would be refused as unannounced.
    /// Until no session is reconciling, not until the sessions end: a caller may hold its lease while it awaits these very pushes.
    /// A ValueTask: nearly every push is judged at once, without waiting.</remarks>
    public async ValueTask<TransferVerdict> CheckAsync(PeerId peer, string pubsubTopic, MessageHash hash, long timestamp, TimeSpan wait, CancellationToken ct)
    {
        Task reconciled;
        lock (_lock)
        {
            var verdict = CheckLocked(peer, pubsubTopic, hash, timestamp);
            if (verdict != TransferVerdict.Unannounced || !_peers.TryGetValue(peer, out var s) || s.Reconciling == 0 || s.Reconciled is null)
                return verdict;
            reconciled = s.Reconciled.Task;
        }
        try { await reconciled.WaitAsync(wait, ct).ConfigureAwait(false); }
        catch (TimeoutException) { }
        return Check(peer, pubsubTopic, hash, timestamp);
    }

    TransferVerdict CheckLocked(PeerId peer, string pubsubTopic, in MessageHash hash, long timestamp)
    {
        if (!_peers.TryGetValue(peer, out var state)) return TransferVerdict.Unannounced;
        var now = _clock.GetUtcNow();
        // Not consumed: two sessions (one started by each side) may both push it, concurrently; copies are harmless.
        if (state.Expected.TryGetValue(hash, out var lease) && lease.Expires > now)
        {
            Refresh(lease, now);
            lease.Delivered++;
            state.LastDelivery = now;
            return TransferVerdict.Announced;
        }
        foreach (var w in state.Windows)
        {
            if (w.Lease.Expires <= now || w.Remaining <= 0) continue;
            if (timestamp < w.Start || timestamp >= w.End) continue;
            if (w.PubsubTopics is not null && !w.PubsubTopics.Contains(pubsubTopic)) continue;
            w.Remaining--;
            Refresh(w.Lease, now);
            w.Lease.Delivered++;
            state.LastDelivery = now;
            return TransferVerdict.InWindow;
        }
        return _violated.Contains(peer) ? TransferVerdict.AfterViolation : TransferVerdict.Unannounced;
    }

    // An ended session's announcements stay valid for the grace after each delivery of one of them (a paced transfer).
    void Refresh(SessionLease lease, DateTimeOffset now)
    {
        if (lease.Expires != DateTimeOffset.MaxValue) lease.Expires = now + _limits.TransferGrace;
    }

    bool TryClaim(SessionLease lease, in MessageHash hash)
    {
        lock (_lock) return ClaimLocked(lease, hash);
    }

    // Beyond the bound the item is pushed unclaimed: copies are harmless.
    bool ClaimLocked(SessionLease lease, in MessageHash hash)
    {
        var pushing = lease.State.Pushing;
        if (pushing.Count >= (long)_limits.MaxDifferencesPerSession * _limits.MaxSessionsPerPeer) return true;
        return pushing.TryAdd(hash, lease) || ReferenceEquals(pushing[hash], lease);
    }

    void Claim(SessionLease lease, IEnumerable<SyncItem> items, HashSet<MessageHash> mine, List<SyncItem> claimed)
    {
        lock (_lock)
            foreach (var item in items)
            {
                if (mine.Contains(item.Hash) || !ClaimLocked(lease, item.Hash)) continue; // mine: queued by this sender already (nwaku mode queues frame by frame)
                mine.Add(item.Hash);
                claimed.Add(item);
            }
    }

    void Release(SessionLease lease, in MessageHash hash)
    {
        lock (_lock)
        {
            Unclaim(lease, hash);
            Forget(lease.Peer, lease.State);
        }
    }

    // A transfer's claims all at once when its stream ends: one lock and one prune, not one per message.
    void Release(SessionLease lease, IEnumerable<MessageHash> hashes)
    {
        lock (_lock)
        {
            foreach (var hash in hashes) Unclaim(lease, hash);
            Forget(lease.Peer, lease.State);
        }
    }

    static void Unclaim(SessionLease lease, in MessageHash hash)
    {
        if (lease.State.Pushing.TryGetValue(hash, out var owner) && ReferenceEquals(owner, lease)) lease.State.Pushing.Remove(hash);
    }

    /// <summary>Messages queued to the peer by running sessions and not written yet (for tests and figures).</summary>
    public int PushingCount(PeerId peer)
    {
        lock (_lock) return _peers.TryGetValue(peer, out var s) ? s.Pushing.Count : 0;
    }

    /// <summary>Takes one of the peer's transfer stream slots; false when it has as many open as allowed.</summary>
    public bool TryOpenTransfer(PeerId peer)
    {
        lock (_lock)
        {
            var state = StateOf(peer);
            if (state.TransferStreams >= _limits.MaxTransferStreamsPerPeer) return false;
            state.TransferStreams++;
            return true;
        }
    }

    /// <summary>How often <see cref="OpenTransferAsync"/> looks for a free slot.</summary>
    static readonly TimeSpan SlotPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>As <see cref="TryOpenTransfer"/>, waiting at most <paramref name="wait"/> for one of the peer's streams to end.</summary>
    /// <remarks>A peer's sessions end before we have read all they pushed, so a peer that runs sessions back to back (a swarm
    /// backfill's slices) may open its next transfer stream while two are still being written here. Refused at once, what it
    /// had written on it would be lost until a later sync; while it waits unread, the stream's yamux window holds the sender back.</remarks>
    public async Task<bool> OpenTransferAsync(PeerId peer, TimeSpan wait, CancellationToken ct)
    {
        var deadline = _clock.GetUtcNow() + wait;
        while (!TryOpenTransfer(peer))
        {
            if (_clock.GetUtcNow() >= deadline) return false;
            await Task.Delay(SlotPoll, _clock, ct).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>Transfer streams the peer has open to us now (for tests and figures).</summary>
    public int OpenTransfers(PeerId peer)
    {
        lock (_lock) return _peers.TryGetValue(peer, out var s) ? s.TransferStreams : 0;
    }

    public void CloseTransfer(PeerId peer)
    {
        lock (_lock)
        {
            if (!_peers.TryGetValue(peer, out var state)) return;
            state.TransferStreams--;
            Forget(peer, state);
        }
    }

    /// <summary>Marks a peer fenced when no session with it runs: until a session with it begins, a transfer stream it opens is
    /// refused unread (<see cref="IsFenced"/>). Such a stream can only belong to a session that ended before the fence, whose
    /// slice another peer may be fetching already: read, it would bring those messages a second time.</summary>
    public void Fence(PeerId peer)
    {
        lock (_lock)
        {
            if (_peers.TryGetValue(peer, out var state) && state.Sessions > 0) return;
            if (_fenced.Count >= MaxFenced) _fenced.Clear();
            _fenced.Add(peer);
        }
    }

    /// <summary>Whether the peer was fenced, or its last session broke the protocol, and no session with it began since.</summary>
    public bool IsFenced(PeerId peer)
    {
        lock (_lock) return _fenced.Contains(peer) || _violated.Contains(peer);
    }

    // The session broke the protocol and is the only one with its peer: the pushes that follow belong to it (the peer's side may
    // have ended before ours refused its frame), so they are its fault, already penalised once. With another session running
    // they may be that one's, and are judged as ever.
    void MarkViolated(SessionLease lease)
    {
        lock (_lock)
        {
            if (lease.State.Sessions > 1) return;
            if (_violated.Count >= MaxFenced) _violated.Clear();
            _violated.Add(lease.Peer);
        }
    }

    /// <summary>What the peer's ended sessions announced expires now: its transfer streams were reset and what they had brought
    /// is written, so none of it can still arrive. Running sessions keep theirs. Without this a later session of the same peer
    /// over the same range would have its deliveries counted against the ended session's window.</summary>
    public void ExpireEnded(PeerId peer)
    {
        lock (_lock)
        {
            if (!_peers.TryGetValue(peer, out var state)) return;
            var now = _clock.GetUtcNow();
            foreach (var lease in state.Expected.Values.Concat(state.Windows.Select(w => w.Lease)))
                if (lease.Expires != DateTimeOffset.MaxValue) lease.Expires = now;
            Forget(peer, state);
        }
    }

    /// <summary>Hashes currently expected from the peer (for tests and figures).</summary>
    public int ExpectedCount(PeerId peer)
    {
        lock (_lock) return _peers.TryGetValue(peer, out var s) ? s.Expected.Count : 0;
    }

    PeerState StateOf(PeerId peer)
    {
        if (!_peers.TryGetValue(peer, out var state)) _peers[peer] = state = new PeerState();
        return state;
    }

    void Prune(PeerState state)
    {
        var now = _clock.GetUtcNow();
        state.Windows.RemoveAll(w => w.Lease.Expires <= now || w.Remaining <= 0);
        if (state.Expected.Count == 0) return;
        List<MessageHash>? stale = null;
        foreach (var (hash, lease) in state.Expected)
            if (lease.Expires <= now) (stale ??= []).Add(hash);
        if (stale is not null)
            foreach (var h in stale)
                if (state.Expected.Remove(h)) _expectedTotal--;
    }

    const int SweepAbove = 256;

    void Sweep()
    {
        foreach (var (peer, state) in _peers.ToArray()) Forget(peer, state);
    }

    void Forget(PeerId peer, PeerState state)
    {
        Prune(state);
        if (state.Sessions == 0 && state.TransferStreams == 0 && state.Expected.Count == 0 && state.Windows.Count == 0 && state.Pushing.Count == 0) _peers.Remove(peer);
    }

    void End(SessionLease lease)
    {
        MarkReconciled(lease);
        lock (_lock)
        {
            lease.Expires = _clock.GetUtcNow() + _limits.TransferGrace;
            var state = lease.State;
            state.Sessions--;
            if (lease.Inbound) _inbound--;
            Forget(lease.Peer, state);
        }
    }

    void Expect(SessionLease lease, IEnumerable<SyncItem> items)
    {
        lock (_lock)
        {
            int cap = _limits.MaxDifferencesPerSession * _limits.MaxSessionsPerPeer;
            foreach (var item in items)
            {
                if (lease.State.Expected.Count >= cap || _expectedTotal >= _limits.MaxExpectedTotal)
                {
                    // Our memory bound, not the peer's fault: accept its pushes of this session by range rather than by hash.
                    lease.State.Windows.Add(new Window(lease, null, long.MinValue, long.MaxValue) { Remaining = _limits.MaxDifferencesPerSession });
                    break;
                }
                if (lease.State.Expected.TryAdd(item.Hash, lease)) _expectedTotal++;
                else lease.State.Expected[item.Hash] = lease;
            }
        }
    }

    void Allow(SessionLease lease, IReadOnlyCollection<string>? pubsubTopics, long start, long end, long count)
    {
        lock (_lock)
        {
            var topics = pubsubTopics is null || pubsubTopics.Count == 0 ? null : new HashSet<string>(pubsubTopics, StringComparer.Ordinal);
            lease.State.Windows.Add(new Window(lease, topics, start, end) { Remaining = (int)Math.Min(count, _limits.MaxDifferencesPerSession) });
        }
    }

    internal sealed class PeerState
    {
        public int Sessions, TransferStreams, Reconciling;
        public readonly Dictionary<MessageHash, SessionLease> Expected = [];
        public readonly Dictionary<MessageHash, SessionLease> Pushing = [];
        public readonly List<Window> Windows = [];
        public TaskCompletionSource? Reconciled;
        public DateTimeOffset LastDelivery;
    }

    /// <summary>How often <see cref="SessionLease.WaitDeliveredAsync"/> looks at the deliveries.</summary>
    /// <remarks>Short: a swarm backfill waits for each slice's pushes before the next peer's session on it.</remarks>
    static readonly TimeSpan DeliveryPoll = TimeSpan.FromMilliseconds(10);

    async Task<bool> WaitDelivered(SessionLease lease, int count, TimeSpan quiet, CancellationToken ct)
    {
        DateTimeOffset since = _clock.GetUtcNow();
        while (true)
        {
            DateTimeOffset last;
            lock (_lock)
            {
                if (lease.Delivered >= count) return true;
                last = lease.State.LastDelivery > since ? lease.State.LastDelivery : since;
            }
            if (_clock.GetUtcNow() - last > quiet) return false;
            await Task.Delay(DeliveryPoll, _clock, ct).ConfigureAwait(false);
        }
    }

    internal sealed record Window(SessionLease Lease, HashSet<string>? PubsubTopics, long Start, long End)
    {
        public int Remaining { get; set; }
    }

    /// <summary>One running session; dispose it when the session (and its pushes) are over.</summary>
    public sealed class SessionLease : IDisposable
    {
        readonly SyncSessions _owner;
        int _disposed;

        internal SessionLease(SyncSessions owner, PeerId peer, PeerState state, bool inbound)
        {
            _owner = owner;
            Peer = peer;
            State = state;
            Inbound = inbound;
        }

        public PeerId Peer { get; }
        internal PeerState State { get; }
        internal bool Inbound { get; }
        internal DateTimeOffset Expires { get; set; } = DateTimeOffset.MaxValue;
        internal bool HasReconciled { get; set; }

        /// <summary>Pushed messages judged by what this session announced (copies included).</summary>
        internal int Delivered { get; set; }

        /// <summary>Waits until the peer has pushed <paramref name="count"/> messages this session announced, or until nothing
        /// announced by any session with the peer has arrived for <paramref name="quiet"/>; true in the first case.</summary>
        public Task<bool> WaitDeliveredAsync(int count, TimeSpan quiet, CancellationToken ct) => _owner.WaitDelivered(this, count, quiet, ct);

        /// <summary>The peer will push these (they were found missing here).</summary>
        public void Expect(IEnumerable<SyncItem> items) => _owner.Expect(this, items);

        /// <summary>The peer may push unannounced messages of these pubsub topics (null = any) with start ≤ timestamp &lt; end, at
        /// most <paramref name="count"/> of them (and at most the per-session difference cap).</summary>
        public void AllowWindow(IReadOnlyCollection<string>? pubsubTopics, long start, long end, long count = long.MaxValue) =>
            _owner.Allow(this, pubsubTopics, start, end, count);

        /// <summary>The session has registered everything it announces (<see cref="Expect"/>, <see cref="AllowWindow"/>): pushes
        /// that arrived before and wait for it are judged now.</summary>
        public void Reconciled() => _owner.MarkReconciled(this);

        /// <summary>The session ended in a protocol violation (penalised by the caller): until a session with the peer begins,
        /// its transfer streams are refused and its unannounced pushes dropped without a penalty each
        /// (<see cref="TransferVerdict.AfterViolation"/>). Call before <see cref="Reconciled"/>, which lets waiting pushes be judged.</summary>
        public void Violated() => _owner.MarkViolated(this);

        /// <summary>Claims the push of <paramref name="hash"/> to the peer for this session; false when another running session
        /// has it queued already (it is on its way: pushing it again would only spend bandwidth).</summary>
        public bool TryClaimPush(in MessageHash hash) => _owner.TryClaim(this, hash);

        /// <summary>Claims, under one lock, every item not in <paramref name="mine"/> that no other running session has queued;
        /// each claimed one is added to <paramref name="mine"/> and <paramref name="claimed"/>.</summary>
        public void ClaimPushes(IEnumerable<SyncItem> items, HashSet<MessageHash> mine, List<SyncItem> claimed) =>
            _owner.Claim(this, items, mine, claimed);

        /// <summary>Gives up the claim (the message was skipped, or the transfer stream ended).</summary>
        public void ReleasePush(in MessageHash hash) => _owner.Release(this, hash);

        /// <summary>Gives up these claims at once (the transfer stream ended).</summary>
        public void ReleasePushes(IEnumerable<MessageHash> hashes) => _owner.Release(this, hashes);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) _owner.End(this);
        }
    }
}
