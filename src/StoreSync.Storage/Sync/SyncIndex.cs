using System.Buffers;
using System.Diagnostics;
using StoreSync.Core;
using StoreSync.Reconciliation;

namespace StoreSync.Storage.Sync;

/// <summary>The live fingerprint index of one sync scope (one pubsub topic, all or some content topics) over the store.</summary>
/// <remarks>
/// Built once from a RocksDB snapshot taken while writes are paused, so the snapshot holds exactly the batches this observer
/// is not told of; batches committed during the build are queued and applied after it, again with writes paused. From then
/// on every insert and delete (ingest, transfer, eviction) is applied in commit order by the store observer callback.
/// The <see cref="FingerprintIndex"/> reads blocks of the store when it splits one; while a batch is being applied the store
/// already holds the whole batch, so those reads are corrected by the batch's not-yet-applied items (<see cref="Backing"/>).
/// Queries and updates are serialised by one lock; item reads go to the store directly.
/// </remarks>
public sealed class SyncIndex : ISyncItemSource, IMessageStoreObserver
{
    readonly Lock _lock = new();
    readonly MessageStore _store;
    readonly StoreSyncItems _live;
    readonly Backing _backing;
    readonly HashSet<string>? _contentTopics;
    readonly List<(bool Inserted, SyncItem[] Items)> _queued = [];
    FingerprintIndex? _index;
    bool _isLive;

    SyncIndex(MessageStore store, string pubsubTopic, IReadOnlyList<string> contentTopics)
    {
        _store = store;
        PubsubTopic = pubsubTopic;
        Scope = new SyncScope([pubsubTopic], contentTopics);
        _contentTopics = contentTopics.Count == 0 ? null : new HashSet<string>(contentTopics, StringComparer.Ordinal);
        _live = store.SyncItems(Scope);
        _backing = new Backing(_live);
    }

    public string PubsubTopic { get; }

    public SyncScope Scope { get; }

    /// <summary>How long the initial build took.</summary>
    public TimeSpan BuildTime { get; private set; }

    /// <summary>Approximate memory of the index (treap of block summaries).</summary>
    public long MemoryBytes { get { lock (_lock) return _index?.MemoryBytes ?? 0; } }

    /// <summary>True when <see cref="Create"/> took the index from a saved file instead of scanning the store.</summary>
    public bool Loaded { get; private set; }

    /// <summary>Why a saved file offered to <see cref="Create"/> was not used (null when none was offered, or it was used).</summary>
    public string? NotLoadedReason { get; private set; }

    /// <summary>Builds the index of <paramref name="pubsubTopic"/> (restricted to <paramref name="contentTopics"/> unless empty) and keeps it live.</summary>
    /// <param name="saved">An index saved at a clean shutdown: used instead of the scan when it is for this scope and the store
    /// has not been written since (same <see cref="MessageStore.LastSequenceNumber"/>, same message count); otherwise ignored.</param>
    public static SyncIndex Create(MessageStore store, string pubsubTopic, IReadOnlyList<string>? contentTopics = null, SyncIndexFile? saved = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var index = new SyncIndex(store, pubsubTopic, contentTopics ?? []);
        long started = Stopwatch.GetTimestamp();
        if (saved is not null)
        {
            index.NotLoadedReason = index.TryLoad(store, saved);
            if (index.NotLoadedReason is null)
            {
                index.BuildTime = Stopwatch.GetElapsedTime(started);
                return index;
            }
        }
        TimeIndexReader? snapshot = null;
        HashSet<uint>? contentIds = null;
        store.RunWithWritesPaused(() =>
        {
            store.AddObserver(index);
            snapshot = store.OpenTimeIndex(pubsubTopic, long.MinValue, MessageHash.Zero, forward: true);
            if (index._contentTopics is not null)
            {
                contentIds = [];
                foreach (var name in index._contentTopics)
                    if (store.TryGetContentTopicId(name, out uint id)) contentIds.Add(id);
            }
        });
        FingerprintIndex built;
        using (snapshot)
        {
            index._backing.BeginSnapshot(snapshot!, contentIds);
            built = FingerprintIndex.Build(index._backing);
        }
        store.RunWithWritesPaused(() =>
        {
            lock (index._lock)
            {
                index._backing.EndSnapshot();
                index._index = built;
                index.ApplyQueued();
                index._isLive = true;
            }
        });
        index.BuildTime = Stopwatch.GetElapsedTime(started);
        return index;
    }

    // The file is parsed before writes are paused; only the sequence check and the observer's registration happen paused, so
    // the loaded index and the store agree exactly and every later batch is applied.
    string? TryLoad(MessageStore store, SyncIndexFile saved)
    {
        if (!saved.IsFor(Scope)) return "saved for another scope";
        FingerprintIndex loaded;
        try
        {
            using var input = new MemoryStream(saved.Index.ToArray(), writable: false);
            loaded = FingerprintIndex.Load(_backing, input);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            return "corrupt: " + e.Message;
        }
        if (loaded.Count != saved.Count) return $"holds {loaded.Count} items, its header says {saved.Count}";
        string? reason = null;
        store.RunWithWritesPaused(() =>
        {
            ulong sequence = store.LastSequenceNumber;
            long stored = StoredCount(store);
            if (sequence != saved.Sequence) reason = $"the store was written since it was saved (sequence {saved.Sequence}, now {sequence})";
            else if (stored != loaded.Count) reason = $"holds {loaded.Count} items, the store {stored}";
            if (reason is not null) return;
            lock (_lock)
            {
                _index = loaded;
                _isLive = true;
            }
            store.AddObserver(this);
        });
        Loaded = reason is null;
        return reason;
    }

    // From the counters: what the scope holds now (a cheap cross-check of the sequence number).
    long StoredCount(MessageStore store) => _contentTopics is null
        ? store.GetFigures(PubsubTopic).Messages
        : _contentTopics.Sum(c => store.GetFigures(PubsubTopic, c).Messages);

    /// <summary>Writes the index (<see cref="SyncIndexFile"/>) for a store at <paramref name="sequence"/>; call it with writes
    /// paused or the store closing, so that the index and the sequence number describe the same state.</summary>
    public void Save(string path, ulong sequence)
    {
        lock (_lock)
        {
            var index = Index;
            SyncIndexFile.Write(path, Scope, sequence, index.Count, index.Save);
        }
    }

    public long Count { get { lock (_lock) return Index.Count; } }

    FingerprintIndex Index => _index ?? throw new InvalidOperationException("the sync index is still being built");

    public Fingerprint GetFingerprint(in SyncItem from, in SyncItem to)
    {
        // Between a batch's commit and its notification the store already holds items the index has not counted; a range
        // edge scanned in that instant can be off by those items (never below zero for long). Retry past that instant.
        for (int attempt = 0; ; attempt++)
        {
            Fingerprint fp;
            lock (_lock) fp = Index.GetFingerprint(from, to);
            if (fp.Count >= 0 || attempt == 8) return fp.Count >= 0 ? fp : new Fingerprint(fp.Xor, 0);
            // A frame's shared snapshot is older still: read the present.
            SharedReads.Current(_store)?.Refresh();
            Thread.Yield();
        }
    }

    /// <summary>A split's m ranges from m + 1 boundary lookups (not 2m edge reads); retried as <see cref="GetFingerprint"/> is.</summary>
    public void GetFingerprints(ReadOnlySpan<SyncItem> bounds, Span<Fingerprint> ranges)
    {
        for (int attempt = 0; ; attempt++)
        {
            lock (_lock) Index.GetFingerprints(bounds, ranges);
            bool negative = false;
            for (int i = 0; i + 1 < bounds.Length; i++) negative |= ranges[i].Count < 0;
            if (!negative) return;
            if (attempt == 8)
            {
                for (int i = 0; i + 1 < bounds.Length; i++)
                    if (ranges[i].Count < 0) ranges[i] = new Fingerprint(ranges[i].Xor, 0);
                return;
            }
            SharedReads.Current(_store)?.Refresh();
            Thread.Yield();
        }
    }

    public long Rank(in SyncItem item)
    {
        lock (_lock) return Math.Max(0, Index.Rank(item));
    }

    public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination) => _live.Read(from, to, destination);

    public void OnInserted(IReadOnlyList<StoreChange> changes) => Observe(changes, inserted: true);

    public void OnDeleted(IReadOnlyList<StoreChange> changes) => Observe(changes, inserted: false);

    void Observe(IReadOnlyList<StoreChange> changes, bool inserted)
    {
        List<SyncItem>? mine = null;
        foreach (var c in changes)
        {
            if (!string.Equals(c.PubsubTopic, PubsubTopic, StringComparison.Ordinal)) continue;
            if (_contentTopics is not null && !_contentTopics.Contains(c.ContentTopic)) continue;
            (mine ??= []).Add(new SyncItem(c.Timestamp, c.Hash));
        }
        if (mine is null) return;
        lock (_lock)
        {
            SyncItem[] items = [.. mine];
            if (!_isLive) _queued.Add((inserted, items));
            else if (inserted) Apply(items, []);
            else Apply([], items);
        }
    }

    // The batches written during the build, applied with writes paused once the store holds every one of them: batch by batch,
    // a block read for one would see the later ones (the index and store then disagree). So their net effect on the snapshot
    // is applied instead (an item inserted then deleted is neither).
    void ApplyQueued()
    {
        var net = new Dictionary<SyncItem, bool>();
        foreach (var (inserted, items) in _queued)
            foreach (var item in items)
            {
                if (net.TryGetValue(item, out bool earlier) && earlier != inserted) net.Remove(item);
                else net[item] = inserted;
            }
        _queued.Clear();
        Apply([.. net.Where(e => e.Value).Select(e => e.Key)], [.. net.Where(e => !e.Value).Select(e => e.Key)]);
    }

    // Called with writes paused (the observer callback runs under the store's write lock), so the store holds exactly the
    // index plus the inserts not yet applied (the index leaves those out of its reads itself) and less the deletes not yet
    // applied (the backing shows those, until each is).
    void Apply(SyncItem[] inserts, SyncItem[] deletes)
    {
        var index = Index;
        _backing.PendingDeletes.UnionWith(deletes);
        try
        {
            if (inserts.Length > 0) index.InsertMany(inserts);
            foreach (var item in deletes)
            {
                _backing.PendingDeletes.Remove(item);
                index.Remove(item);
            }
        }
        finally { _backing.PendingDeletes.Clear(); }
    }

    /// <summary>What the <see cref="FingerprintIndex"/> reads: the snapshot while building, then the store as the index knows it.</summary>
    sealed class Backing(StoreSyncItems live) : IOrderedSyncItems
    {
        TimeIndexReader? _snapshot;
        HashSet<uint>? _contentIds;
        SyncItem _next;
        bool _spent;

        public SortedSet<SyncItem> PendingDeletes { get; } = [];

        public void BeginSnapshot(TimeIndexReader snapshot, HashSet<uint>? contentIds)
        {
            _snapshot = snapshot;
            _contentIds = contentIds;
            _next = SyncItem.MinValue;
            _spent = false;
        }

        public void EndSnapshot() => _snapshot = null;

        public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination) =>
            _snapshot is not null ? ReadSnapshot(from, to, destination) : ReadLive(from, to, destination);

        // FingerprintIndex.Build reads the whole store once, in order, each read continuing after the previous one.
        int ReadSnapshot(in SyncItem from, in SyncItem to, Span<SyncItem> destination)
        {
            if (from != _next) throw new InvalidOperationException("the index build read the snapshot out of order");
            int n = 0;
            while (n < destination.Length && !_spent)
            {
                if (!_snapshot!.MoveNext()) { _spent = true; break; }
                var e = _snapshot.Current;
                if (_contentIds is not null && !_contentIds.Contains(e.ContentId)) continue;
                var item = new SyncItem(e.Timestamp, e.Hash);
                if (item >= to) { _spent = true; break; }
                destination[n++] = item;
            }
            if (n > 0) _next = destination[n - 1].Successor();
            return n;
        }

        int ReadLive(in SyncItem from, in SyncItem to, Span<SyncItem> destination)
        {
            if (PendingDeletes.Count == 0) return live.Read(from, to, destination);
            var rented = ArrayPool<SyncItem>.Shared.Rent(destination.Length);
            try
            {
                int kept = live.Read(from, to, rented.AsSpan(0, destination.Length));
                var deletes = from < to ? PendingDeletes.GetViewBetween(from, to) : new SortedSet<SyncItem>();
                int n = 0, a = 0;
                using var d = deletes.GetEnumerator();
                bool hasD = d.MoveNext();
                while (n < destination.Length && (a < kept || hasD))
                {
                    bool takeA = a < kept && (!hasD || rented[a] < d.Current);
                    if (takeA) destination[n++] = rented[a++];
                    else
                    {
                        if (d.Current < to) destination[n++] = d.Current;
                        hasD = d.MoveNext();
                    }
                }
                return n;
            }
            finally { ArrayPool<SyncItem>.Shared.Return(rented); }
        }
    }
}
