using StoreSync.Reconciliation;

namespace StoreSync.Simulations.Storage;

/// <summary>An ordered in-memory item store with cheap inserts anywhere: sorted chunks of at most <see cref="ChunkCapacity"/> items.</summary>
/// <remarks>
/// <see cref="SortedSyncItems"/> shifts the whole array on every insert, which is fine for appends (live messages arrive
/// in time order) but O(n) for the old messages a node receives by sync: 10^5 of them into 10^5 items would move
/// 200 GB. Here an insert moves at most one chunk (20 KB) and a split touches the chunk list once per 256 inserts.
/// </remarks>
internal sealed class ChunkedSyncItems : IOrderedSyncItems
{
    public const int ChunkCapacity = 512;

    sealed class Chunk(int capacity)
    {
        public readonly SyncItem[] Items = new SyncItem[capacity];
        public int Count;
        public SyncItem First => Items[0];
    }

    readonly List<Chunk> _chunks = [];

    public long Count { get; private set; }

    public bool IsEmpty => Count == 0;

    public SyncItem Oldest => Count > 0 ? _chunks[0].First : throw new InvalidOperationException("empty");

    // The last chunk whose first item is ≤ key (0 when key is below all).
    int ChunkFor(in SyncItem key)
    {
        int lo = 0, hi = _chunks.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (_chunks[mid].First <= key) lo = mid; else hi = mid - 1;
        }
        return lo;
    }

    static int LowerBound(Chunk chunk, in SyncItem key)
    {
        int lo = 0, hi = chunk.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (chunk.Items[mid] < key) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    public bool Contains(in SyncItem item)
    {
        if (Count == 0) return false;
        var chunk = _chunks[ChunkFor(item)];
        int at = LowerBound(chunk, item);
        return at < chunk.Count && chunk.Items[at] == item;
    }

    /// <summary>Adds an item; false if it is already present.</summary>
    public bool Insert(in SyncItem item)
    {
        if (_chunks.Count == 0) _chunks.Add(new Chunk(ChunkCapacity));
        int c = ChunkFor(item);
        var chunk = _chunks[c];
        int at = LowerBound(chunk, item);
        if (at < chunk.Count && chunk.Items[at] == item) return false;
        if (chunk.Count == ChunkCapacity)
        {
            // Appends (the common case) start a fresh chunk instead of leaving two half-empty ones behind.
            var next = new Chunk(ChunkCapacity);
            int keep = c == _chunks.Count - 1 && at == chunk.Count ? chunk.Count : chunk.Count / 2;
            Array.Copy(chunk.Items, keep, next.Items, 0, chunk.Count - keep);
            next.Count = chunk.Count - keep;
            chunk.Count = keep;
            _chunks.Insert(c + 1, next);
            if (at > keep || (at == keep && next.Count == 0)) { chunk = next; at -= keep; }
        }
        Array.Copy(chunk.Items, at, chunk.Items, at + 1, chunk.Count - at);
        chunk.Items[at] = item;
        chunk.Count++;
        Count++;
        return true;
    }

    /// <summary>Removes an item; false if it was absent.</summary>
    public bool Remove(in SyncItem item)
    {
        if (Count == 0) return false;
        int c = ChunkFor(item);
        var chunk = _chunks[c];
        int at = LowerBound(chunk, item);
        if (at >= chunk.Count || chunk.Items[at] != item) return false;
        Array.Copy(chunk.Items, at + 1, chunk.Items, at, chunk.Count - at - 1);
        chunk.Count--;
        Count--;
        if (chunk.Count == 0) _chunks.RemoveAt(c);
        return true;
    }

    public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination)
    {
        if (Count == 0 || from >= to || destination.IsEmpty) return 0;
        int c = ChunkFor(from);
        int at = LowerBound(_chunks[c], from);
        int n = 0;
        // Whole runs are copied; only the chunk holding `to` is searched for it (the fingerprint index calls this
        // for every range edge, so per-item comparisons here would dominate a run).
        while (c < _chunks.Count && n < destination.Length)
        {
            var chunk = _chunks[c];
            bool last = chunk.Items[chunk.Count - 1] >= to;
            int end = last ? LowerBound(chunk, to) : chunk.Count;
            int take = Math.Min(end - at, destination.Length - n);
            if (take > 0) chunk.Items.AsSpan(at, take).CopyTo(destination[n..]);
            n += Math.Max(take, 0);
            if (last) break;
            c++;
            at = 0;
        }
        return n;
    }
}
