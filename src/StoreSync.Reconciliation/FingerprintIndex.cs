using System.Buffers.Binary;
using StoreSync.Core;

namespace StoreSync.Reconciliation;

/// <summary>Range fingerprints and counts in O(log n) over an ordered item store, maintained on insert and delete.</summary>
/// <remarks>
/// The items are cut into blocks of consecutive items; a block is summarised by (first key, count, XOR) in a
/// treap ordered by first key whose nodes also carry their subtree's count and XOR. A range query descends
/// twice (O(log n)) and scans at most one block from the store at each edge, never the whole range.
/// A node is 136 bytes and blocks hold between <c>blockSize/4</c> and <c>2·blockSize</c> items, so with the
/// default 64 the index costs about 1–2 bytes per item (≤ 9 after adversarial deletes), never the items.
/// An insert into the gap between two blocks (after a block's last timestamp, before the next block's first key) appends to
/// the one block or prepends to the other, the nearer one that has room and is near (<see cref="JoinsAcross"/>), else starts
/// a block of its own: it reads nothing from the store. Runs of new items (a live node appending, a backfill filling newest first) land in gaps; only an insert inside a
/// full block splits it, which reads the block.
/// Not thread-safe: the owner serialises updates and queries (one sync session reads at a time).
/// </remarks>
public sealed class FingerprintIndex : ISyncItemSource
{
    public const int DefaultBlockSize = 64;
    const int NodeBytes = 76; // first key (8 + 32), count (4), XOR (32) in the serialised form
    const uint Magic = 0x53594649; // "SYFI"

    struct Node
    {
        public SyncItem First;
        public long LastTimestamp; // ≥ every item's timestamp in the block (long.MaxValue: not known, after a load)
        public MessageHash Xor, SubXor;
        public long SubCount;
        public int Count, Left, Right;
        public uint Priority;
    }

    /// <summary>Items read per store call while building: one call per block would be one RocksDB iterator per 64 items.</summary>
    const int BuildChunk = 8192;

    // One scratch buffer per thread for the block scans, not one per index: a node keeps an index per scope, and a
    // small scope must not pay 5 KB for it.
    [ThreadStatic] static SyncItem[]? _scratch;

    readonly IOrderedSyncItems _store;
    readonly int _blockSize;
    SyncItem[]? _batch;   // InsertMany's sorted items, of which those from _batchPending on are in the store but not counted yet
    int _batchPending;
    Node[] _nodes = new Node[4];
    int _used, _free = -1, _root = -1;
    uint _seed = 0x9E3779B9;

    public FingerprintIndex(IOrderedSyncItems store, int blockSize = DefaultBlockSize)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (blockSize < 4) throw new ArgumentOutOfRangeException(nameof(blockSize), "blocks hold at least 4 items");
        _store = store;
        _blockSize = blockSize;
    }

    SyncItem[] Scratch
    {
        get
        {
            var s = _scratch;
            if (s is null || s.Length < 2 * _blockSize + 2) _scratch = s = new SyncItem[Math.Max(2 * _blockSize + 2, 2 * DefaultBlockSize + 2)];
            return s;
        }
    }

    public long Count => _root < 0 ? 0 : _nodes[_root].SubCount;

    /// <summary>The ordered store the index summarises.</summary>
    public IOrderedSyncItems Store => _store;

    /// <summary>Number of blocks (treap nodes); memory is 136 bytes per block, with at most twice as many slots as blocks.</summary>
    public int BlockCount { get; private set; }

    /// <summary>Bytes of memory held by the index (its node array; the per-thread scan buffer is shared by all indexes).</summary>
    public long MemoryBytes => (long)_nodes.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<Node>();

    /// <summary>Builds the index from the store's current content by one ordered scan.</summary>
    public static FingerprintIndex Build(IOrderedSyncItems store, int blockSize = DefaultBlockSize)
    {
        var index = new FingerprintIndex(store, blockSize);
        var builder = new Builder(index);
        var buffer = new SyncItem[Math.Max(BuildChunk / blockSize, 1) * blockSize];
        var from = SyncItem.MinValue;
        while (true)
        {
            int n = store.Read(from, SyncItem.MaxValue, buffer);
            for (int at = 0; at < n; at += blockSize)
            {
                var block = buffer.AsSpan(at, Math.Min(blockSize, n - at));
                builder.Add(block[0], block.Length, Fingerprint.Of(block).Xor, block[^1].Timestamp);
            }
            if (n < buffer.Length) break;
            from = buffer[n - 1].Successor();
        }
        builder.Finish();
        return index;
    }

    /// <summary>Writes the block summaries so a restart can skip the scan.</summary>
    public void Save(Stream output)
    {
        Span<byte> header = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], _blockSize);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], BlockCount);
        output.Write(header);
        Span<byte> record = stackalloc byte[NodeBytes];
        foreach (int i in InOrder())
        {
            ref var node = ref _nodes[i];
            BinaryPrimitives.WriteInt64BigEndian(record, node.First.Timestamp);
            node.First.Hash.WriteTo(record[8..]);
            BinaryPrimitives.WriteInt32LittleEndian(record[40..], node.Count);
            node.Xor.WriteTo(record[44..]);
            output.Write(record);
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote, for the same store content.</summary>
    public static FingerprintIndex Load(IOrderedSyncItems store, Stream input)
    {
        Span<byte> header = stackalloc byte[16];
        input.ReadExactly(header);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic) throw new InvalidDataException("not a fingerprint index");
        int blockSize = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        long count = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        if (blockSize < 4 || count < 0 || count > int.MaxValue) throw new InvalidDataException("corrupt fingerprint index header");
        var index = new FingerprintIndex(store, blockSize);
        var builder = new Builder(index);
        Span<byte> record = stackalloc byte[NodeBytes];
        SyncItem previous = default;
        for (long i = 0; i < count; i++)
        {
            input.ReadExactly(record);
            var first = new SyncItem(BinaryPrimitives.ReadInt64BigEndian(record), MessageHash.Read(record.Slice(8, 32)));
            int n = BinaryPrimitives.ReadInt32LittleEndian(record[40..]);
            if (n <= 0 || n > 2 * blockSize || (i > 0 && first <= previous)) throw new InvalidDataException("corrupt fingerprint index block");
            builder.Add(first, n, MessageHash.Read(record.Slice(44, 32)), long.MaxValue);
            previous = first;
        }
        builder.Finish();
        return index;
    }

    /// <summary>Records an item the store has just gained.</summary>
    public void Insert(in SyncItem item) => InsertRun(new ReadOnlySpan<SyncItem>(in item));

    /// <summary>Records items the store has just gained, all of them already in the store, in any order (sorted here, in place).</summary>
    /// <remarks>Each run of them that lies between two neighbouring blocks is added at once, with no store read; an item inside
    /// a block is added alone, and a split it causes reads the block less the items of the batch not added yet.</remarks>
    public void InsertMany(SyncItem[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        Array.Sort(items);
        _batch = items;
        try
        {
            for (int at = 0; at < items.Length;)
            {
                _batchPending = at + 1; // a block read happens only once items[at] is counted, never amid a run
                at += InsertRun(items.AsSpan(at));
            }
        }
        finally { _batch = null; }
    }

    // Adds items[0] and those after it that lie in the same gap between blocks (after one block's last timestamp, before the
    // next block's first key): to the nearer of the block before the gap and the one after it that has room and is near
    // (JoinsAcross), else as blocks of its own.
    // An item inside a block is added alone. Returns how many items were added.
    int InsertRun(ReadOnlySpan<SyncItem> items)
    {
        var item = items[0];
        Span<int> path = stackalloc int[128];
        int depth = _root < 0 ? 0 : PathTo(item, path, out _), before = -1;
        SyncItem next = SyncItem.MaxValue;
        if (depth > 0)
        {
            before = path[depth - 1];
            if (item.Timestamp <= _nodes[before].LastTimestamp)
            {
                ApplyAlongPath(path[..depth], item.Hash, +1);
                if (_nodes[before].Count > 2 * _blockSize) SplitBlock(before);
                return 1;
            }
            next = Successor(_nodes[before].First);
        }
        else if (_root >= 0) next = _nodes[path[PathToLeftmost(path) - 1]].First;
        int m = 1;
        while (m < items.Length && items[m] < next) m++;
        var run = items[..m];
        var xor = Fingerprint.Of(run).Xor;
        // Of the two neighbours with room, the nearer one that is near at all (JoinsAcross).
        double gapBefore = double.PositiveInfinity, gapAfter = double.PositiveInfinity;
        if (before >= 0 && _nodes[before].Count + m <= 2 * _blockSize)
        {
            double gap = (double)run[0].Timestamp - _nodes[before].LastTimestamp;
            if (JoinsAcross(before, run, gap)) gapBefore = gap;
        }
        Span<int> afterPath = stackalloc int[128];
        int after = -1, d = 0;
        if (next != SyncItem.MaxValue)
        {
            d = PathTo(next, afterPath, out _);
            after = afterPath[d - 1];
            double gap = (double)next.Timestamp - run[^1].Timestamp;
            if (_nodes[after].Count + m <= 2 * _blockSize && JoinsAcross(after, run, gap)) gapAfter = gap;
        }
        if (gapAfter < gapBefore)
        {
            // Only the key moves down into the gap: the block's place among the others is unchanged.
            _nodes[after].First = run[0];
            ApplyAlongPath(afterPath[..d], xor, m);
            return m;
        }
        if (gapBefore != double.PositiveInfinity)
        {
            _nodes[before].LastTimestamp = run[^1].Timestamp;
            ApplyAlongPath(path[..depth], xor, m);
            return m;
        }
        for (int at = 0; at < m; at += _blockSize)
        {
            var part = run.Slice(at, Math.Min(_blockSize, m - at));
            InsertNode(NewNode(part[0], part.Length, Fingerprint.Of(part).Xor, part[^1].Timestamp));
        }
        return m;
    }

    /// <summary>A neighbour's gap wider than this many item spacings is one another run fills later (a swarm backfill's fronts).</summary>
    const double NearSpacings = 16;

    // Whether a run may join a neighbouring block across a gap of `gap` nanoseconds: when the gap is a few of the run's item
    // spacings (the block's own for a single item). A run that joins a block across a wide gap makes the block span that gap,
    // and whatever fills it later (another peer's front filling its slice newest first) lands inside the block, one insert at
    // a time, with a split and a store read per blockSize of them (spec/sync.md §1). Across a wide gap a run of at least
    // blockSize/4 items starts a block of its own; a smaller one still joins a block of fewer than blockSize items, so that
    // blocks below blockSize/4 items arise only between full ones and cannot multiply.
    bool JoinsAcross(int block, ReadOnlySpan<SyncItem> run, double gap)
    {
        ref var node = ref _nodes[block];
        if (node.Count < _blockSize && run.Length < _blockSize / 4) return true;
        if (node.Count < 2) return true;
        double spacing;
        if (run.Length >= 2) spacing = ((double)run[^1].Timestamp - run[0].Timestamp) / (run.Length - 1);
        else if (node.LastTimestamp != long.MaxValue) spacing = ((double)node.LastTimestamp - node.First.Timestamp) / (node.Count - 1);
        else return true;
        return gap <= NearSpacings * Math.Max(spacing, 1);
    }

    /// <summary>Records an item the store has just lost.</summary>
    public void Remove(in SyncItem item)
    {
        if (_root < 0) throw new InvalidOperationException("the index is empty");
        Span<int> path = stackalloc int[128];
        int depth = PathTo(item, path, out _);
        if (depth == 0) throw new InvalidOperationException("item below every block");
        int block = path[depth - 1];
        ApplyAlongPath(path[..depth], item.Hash, -1);
        ref var node = ref _nodes[block];
        if (node.Count == 0)
        {
            RemoveNode(node.First);
            return;
        }
        if (node.Count < _blockSize / 4) MergeWithNext(block);
    }

    public Fingerprint GetFingerprint(in SyncItem from, in SyncItem to)
    {
        if (from >= to) return Fingerprint.Empty;
        return Prefix(to).Minus(Prefix(from));
    }

    public long Rank(in SyncItem item) => Prefix(item).Count;

    /// <summary>Fingerprints of consecutive ranges with one prefix lookup per bound (m + 1 for m ranges, not 2m).</summary>
    public void GetFingerprints(ReadOnlySpan<SyncItem> bounds, Span<Fingerprint> ranges)
    {
        if (bounds.Length < 2) return;
        var previous = Prefix(bounds[0]);
        for (int i = 1; i < bounds.Length; i++)
        {
            if (bounds[i] < bounds[i - 1]) throw new ArgumentException("bounds must ascend", nameof(bounds));
            var next = Prefix(bounds[i]);
            ranges[i - 1] = next.Minus(previous);
            previous = next;
        }
    }

    public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination) => _store.Read(from, to, destination);

    /// <summary>Summary of all items strictly below <paramref name="key"/>.</summary>
    Fingerprint Prefix(in SyncItem key)
    {
        int t = _root, block = -1;
        long count = 0, before = 0;
        MessageHash xor = default, xorBefore = default;
        while (t >= 0)
        {
            ref var n = ref _nodes[t];
            if (n.First < key)
            {
                int l = n.Left;
                if (l >= 0) { count += _nodes[l].SubCount; xor = xor.Xor(_nodes[l].SubXor); }
                before = count; xorBefore = xor; block = t;
                count += n.Count; xor = xor.Xor(n.Xor);
                t = n.Right;
            }
            else t = n.Left;
        }
        if (block < 0) return Fingerprint.Empty;
        // Only the block holding the key is read from the store: [first, key) of at most 2·blockSize items.
        var scratch = Scratch;
        int got = _store.Read(_nodes[block].First, key, scratch);
        var partial = Fingerprint.Of(scratch.AsSpan(0, got));
        return new Fingerprint(xorBefore, before).Plus(partial);
    }

    // Path from the root to the block holding key (greatest first ≤ key); depth 0 if key is below all blocks.
    int PathTo(in SyncItem key, Span<int> path, out int fullDepth)
    {
        int t = _root, depth = 0, found = 0;
        while (t >= 0)
        {
            path[depth++] = t;
            if (_nodes[t].First <= key) { found = depth; t = _nodes[t].Right; }
            else t = _nodes[t].Left;
        }
        fullDepth = depth;
        return found;
    }

    int PathToLeftmost(Span<int> path)
    {
        int t = _root, depth = 0;
        while (t >= 0) { path[depth++] = t; t = _nodes[t].Left; }
        return depth;
    }

    // Every node on the path up to the block is the block or one of its ancestors, so only their sums change.
    void ApplyAlongPath(ReadOnlySpan<int> path, in MessageHash hash, int delta)
    {
        ref var block = ref _nodes[path[^1]];
        block.Count += delta;
        block.Xor = block.Xor.Xor(hash);
        foreach (int i in path)
        {
            _nodes[i].SubCount += delta;
            _nodes[i].SubXor = _nodes[i].SubXor.Xor(hash);
        }
    }

    // The block's items as the index counts them: what the store holds in [first, next) less the items of the batch being
    // added (InsertMany) that are not counted yet.
    Span<SyncItem> ReadBlock(in SyncItem first, in SyncItem next, int count)
    {
        ReadOnlySpan<SyncItem> pending = _batch is { } batch ? batch.AsSpan(Math.Min(_batchPending, batch.Length)) : default;
        int lo = LowerBound(pending, first), hi = LowerBound(pending, next);
        pending = pending[lo..hi];
        int capacity = count + pending.Length + 1;
        var scratch = Scratch;
        if (scratch.Length < capacity) _scratch = scratch = new SyncItem[capacity];
        int got = _store.Read(first, next, scratch.AsSpan(0, capacity));
        if (!pending.IsEmpty)
        {
            int kept = 0, p = 0;
            for (int i = 0; i < got; i++)
            {
                while (p < pending.Length && pending[p] < scratch[i]) p++;
                if (p < pending.Length && pending[p] == scratch[i]) { p++; continue; }
                scratch[kept++] = scratch[i];
            }
            got = kept;
        }
        if (got != count) throw new InvalidOperationException($"index and store disagree: block holds {count} items, store {got}");
        return scratch.AsSpan(0, got);
    }

    static int LowerBound(ReadOnlySpan<SyncItem> sorted, in SyncItem key)
    {
        int i = sorted.BinarySearch(key);
        return i >= 0 ? i : ~i;
    }

    void SplitBlock(int block)
    {
        var first = _nodes[block].First;
        var scratch = ReadBlock(first, Successor(first), _nodes[block].Count);
        int got = scratch.Length, half = got / 2;
        var upper = Fingerprint.Of(scratch[half..]);
        // Move the upper half out: subtract it along the path, then insert it as a block of its own.
        Span<int> path = stackalloc int[128];
        int depth = PathTo(first, path, out _);
        ref var b = ref _nodes[block];
        b.Count -= (int)upper.Count;
        b.Xor = b.Xor.Xor(upper.Xor);
        b.LastTimestamp = scratch[half - 1].Timestamp;
        foreach (int i in path[..depth])
        {
            _nodes[i].SubCount -= upper.Count;
            _nodes[i].SubXor = _nodes[i].SubXor.Xor(upper.Xor);
        }
        InsertNode(NewNode(scratch[half], (int)upper.Count, upper.Xor, scratch[got - 1].Timestamp));
    }

    void MergeWithNext(int block)
    {
        var first = _nodes[block].First;
        var next = Successor(first);
        if (next == SyncItem.MaxValue) return;
        Span<int> path = stackalloc int[128];
        int depth = PathTo(next, path, out _);
        int nextNode = path[depth - 1];
        int nextCount = _nodes[nextNode].Count;
        if (_nodes[block].Count + nextCount > 2 * _blockSize) return;
        var nextXor = _nodes[nextNode].Xor;
        long nextLast = _nodes[nextNode].LastTimestamp;
        RemoveNode(next);
        depth = PathTo(first, path, out _);
        ref var b = ref _nodes[path[depth - 1]];
        b.Count += nextCount;
        b.Xor = b.Xor.Xor(nextXor);
        b.LastTimestamp = nextLast;
        foreach (int i in path[..depth])
        {
            _nodes[i].SubCount += nextCount;
            _nodes[i].SubXor = _nodes[i].SubXor.Xor(nextXor);
        }
    }

    // First key of the block after the one starting at key, or MaxValue.
    SyncItem Successor(in SyncItem key)
    {
        int t = _root;
        var best = SyncItem.MaxValue;
        while (t >= 0)
        {
            if (_nodes[t].First > key) { best = _nodes[t].First; t = _nodes[t].Left; }
            else t = _nodes[t].Right;
        }
        return best;
    }

    int NewNode(in SyncItem first, int count, in MessageHash xor, long lastTimestamp)
    {
        int i;
        if (_free >= 0) { i = _free; _free = _nodes[i].Left; }
        else
        {
            if (_used == _nodes.Length) Array.Resize(ref _nodes, _nodes.Length * 2);
            i = _used++;
        }
        _seed ^= _seed << 13; _seed ^= _seed >> 17; _seed ^= _seed << 5;
        _nodes[i] = new Node { First = first, LastTimestamp = lastTimestamp, Count = count, Xor = xor, SubCount = count, SubXor = xor, Left = -1, Right = -1, Priority = _seed };
        BlockCount++;
        return i;
    }

    void Update(int t)
    {
        ref var n = ref _nodes[t];
        long c = n.Count;
        var x = n.Xor;
        if (n.Left >= 0) { c += _nodes[n.Left].SubCount; x = x.Xor(_nodes[n.Left].SubXor); }
        if (n.Right >= 0) { c += _nodes[n.Right].SubCount; x = x.Xor(_nodes[n.Right].SubXor); }
        n.SubCount = c;
        n.SubXor = x;
    }

    // Splits t into (first < key, first ≥ key).
    (int, int) Split(int t, in SyncItem key)
    {
        if (t < 0) return (-1, -1);
        if (_nodes[t].First < key)
        {
            var (l, r) = Split(_nodes[t].Right, key);
            _nodes[t].Right = l;
            Update(t);
            return (t, r);
        }
        else
        {
            var (l, r) = Split(_nodes[t].Left, key);
            _nodes[t].Left = r;
            Update(t);
            return (l, t);
        }
    }

    int Merge(int l, int r)
    {
        if (l < 0) return r;
        if (r < 0) return l;
        if (_nodes[l].Priority > _nodes[r].Priority)
        {
            _nodes[l].Right = Merge(_nodes[l].Right, r);
            Update(l);
            return l;
        }
        _nodes[r].Left = Merge(l, _nodes[r].Left);
        Update(r);
        return r;
    }

    void InsertNode(int node)
    {
        var (l, r) = Split(_root, _nodes[node].First);
        _root = Merge(Merge(l, node), r);
    }

    void RemoveNode(in SyncItem first)
    {
        var (l, r) = Split(_root, first);
        var (mid, rest) = Split(r, first.Successor());
        if (mid >= 0)
        {
            _nodes[mid].Left = _free;
            _free = mid;
            BlockCount--;
        }
        _root = Merge(l, rest);
        // Evictions may empty most blocks: keep at most twice as many slots as blocks, so memory follows the items.
        if (_nodes.Length > 64 && BlockCount * 2 < _nodes.Length) Compact();
    }

    // Rebuilds the treap into a fresh array sized 1.5 × the blocks, in key order: O(blocks), and at least a sixth of
    // the slots must be freed before the next compaction, so its cost is amortised over the removals.
    void Compact()
    {
        var old = _nodes;
        var order = InOrder().ToArray();
        _nodes = new Node[Math.Max(4, BlockCount + BlockCount / 2)];
        _used = 0;
        _free = -1;
        _root = -1;
        BlockCount = 0;
        var builder = new Builder(this);
        foreach (int i in order) builder.Add(old[i].First, old[i].Count, old[i].Xor, old[i].LastTimestamp);
        builder.Finish();
    }

    /// <summary>Builds the treap from blocks in key order in O(blocks) with the classic stack construction.</summary>
    sealed class Builder(FingerprintIndex index)
    {
        readonly List<int> _stack = [];

        public void Add(in SyncItem first, int count, in MessageHash xor, long lastTimestamp)
        {
            var nodes = index._nodes;
            int node = index.NewNode(first, count, xor, lastTimestamp);
            nodes = index._nodes;
            int last = -1;
            while (_stack.Count > 0 && nodes[_stack[^1]].Priority < nodes[node].Priority)
            {
                last = _stack[^1];
                _stack.RemoveAt(_stack.Count - 1);
            }
            nodes[node].Left = last;
            if (_stack.Count > 0) nodes[_stack[^1]].Right = node;
            _stack.Add(node);
        }

        public void Finish()
        {
            index._root = _stack.Count > 0 ? _stack[0] : -1;
            if (index._root >= 0) index.FixSums(index._root);
        }
    }

    void FixSums(int t)
    {
        // Post-order without recursion: the built treap may be deep on adversarial priorities only in theory.
        var order = new List<int>();
        var todo = new Stack<int>();
        todo.Push(t);
        while (todo.Count > 0)
        {
            int x = todo.Pop();
            order.Add(x);
            if (_nodes[x].Left >= 0) todo.Push(_nodes[x].Left);
            if (_nodes[x].Right >= 0) todo.Push(_nodes[x].Right);
        }
        for (int i = order.Count - 1; i >= 0; i--) Update(order[i]);
    }

    IEnumerable<int> InOrder()
    {
        var stack = new Stack<int>();
        int t = _root;
        while (t >= 0 || stack.Count > 0)
        {
            while (t >= 0) { stack.Push(t); t = _nodes[t].Left; }
            t = stack.Pop();
            yield return t;
            t = _nodes[t].Right;
        }
    }
}
