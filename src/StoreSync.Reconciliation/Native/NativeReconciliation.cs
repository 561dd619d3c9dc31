using System.Buffers.Binary;
using System.Security.Cryptography;
using StoreSync.Core;

namespace StoreSync.Reconciliation.Native;

/// <summary>A session of StoreSync's own /storesync/reconciliation/1.0.0, initiator or responder (spec/sync.md §3).</summary>
/// <remarks>
/// Both sides keep the same ordered list of open nodes (position ranges); every frame answers, in order, the
/// nodes the peer's previous frame opened, so bounds never travel. A differing node is resolved directly
/// when the counts differ by one (the side with the extra item finds it by XOR-ing candidates out of its
/// fingerprint), swapped as items when tiny, and otherwise split into a number of slices chosen from the
/// estimated number of differences (Σ δ² of the count deltas, pooled over the frame), so that most slices
/// hold zero or one difference. Both sides learn the whole symmetric difference.
/// </remarks>
public sealed class NativeReconciliation : ReconciliationSession
{
    public const string ProtocolId = "/storesync/reconciliation/1.0.0";
    public const byte Version = 1;

    /// <summary>A node with at most this many local items is sent as items rather than split.</summary>
    public const int ItemsThreshold = 2;

    /// <summary>Slices per expected difference when splitting (λ = ½ difference per slice; 2 beat 3 and 4 on bytes, spec/sync.md §3.5).</summary>
    public const double SlicesPerDifference = 2;

    /// <summary>Minimum fan-out for nodes of ≥ 1024 items, so the next frame has enough samples to pool.</summary>
    public const int MinFanoutLarge = 16;

    public const int MaxFanout = 1 << 16;

    /// <summary>Largest node scanned for the single-difference search; larger ones are split instead.</summary>
    public const int SearchLimit = 1 << 16;

    /// <summary>An open node; <c>Sent</c> holds the items we listed in it, to read the peer's bitmap against.</summary>
    readonly record struct Node(UInt128 Lo, UInt128 Hi, SyncItem[]? Sent = null)
    {
        public SyncItem From => SyncItem.FromPosition(Lo);
        public SyncItem To => SyncItem.FromPosition(Hi);
        public bool Contains(in SyncItem item) => item >= From && item < To;
    }

    sealed class Task
    {
        public Node Node;
        public EntryType Type;
        public long RemoteCount, LocalCount;
        public ulong RemoteFp;
        public MessageHash LocalXor;
        public SyncItem[]? Items;
    }

    readonly SyncScope _localScope;
    readonly Func<SyncScope, ISyncItemSource> _sources;
    readonly long _start, _end, _horizon;
    readonly bool _initiator;
    ISyncItemSource? _source;
    ulong _key;
    List<Node> _open = [];
    bool _opened;

    /// <summary>Creates an initiator (give <paramref name="start"/> &lt; <paramref name="end"/>) or a responder (leave them 0).</summary>
    /// <param name="horizon">Oldest timestamp this node keeps on purpose; nothing older is reconciled.</param>
    public NativeReconciliation(SyncScope localScope, Func<SyncScope, ISyncItemSource> sources, long start = 0, long end = 0,
        long horizon = long.MinValue, SyncLimits? limits = null) : base(limits)
    {
        _localScope = localScope;
        _sources = sources;
        _start = start;
        _end = end;
        _horizon = horizon;
        _initiator = end > start;
    }

    /// <summary>The lower time bound both sides agreed on (max of the requested start and both horizons).</summary>
    public long AgreedStart { get; private set; }

    static UInt128 PositionOf(long timestamp) => SyncItem.At(timestamp).Position;

    public override byte[] Initiate()
    {
        if (!_initiator) throw new InvalidOperationException("a responder does not initiate");
        _source = _sources(_localScope);
        Span<byte> nonce = stackalloc byte[8];
        RandomNumberGenerator.Fill(nonce);
        _key = BinaryPrimitives.ReadUInt64LittleEndian(nonce);
        AgreedStart = Math.Max(_start, _horizon);
        var root = new Node(PositionOf(AgreedStart), PositionOf(Math.Max(_end, AgreedStart)));
        var w = new FrameWriter(Limits.MaxFrameBytes);
        try
        {
            w.Byte(Version);
            w.Byte((byte)FrameKind.Open);
            w.Topics(_localScope.PubsubTopics);
            w.Topics(_localScope.ContentTopics);
            w.Varint((ulong)_start);
            w.Varint((ulong)_end);
            w.Varint((ulong)_horizon);
            w.Bytes(nonce);
            var fp = _source.GetFingerprint(root.From, root.To);
            w.Byte((byte)EntryType.Fingerprint);
            WriteFingerprint(ref w, fp);
            _open = [root];
            _opened = true;
            return Sent(w.ToArray())!;
        }
        finally { w.Dispose(); }
    }

    protected override byte[]? Process(ReadOnlySpan<byte> frame)
    {
        if (frame.Length > Limits.MaxFrameBytes) throw new SyncProtocolException("frame exceeds the limit");
        var r = new FrameReader(frame);
        if (r.Byte("version") != Version) throw new SyncProtocolException("unsupported native reconciliation version");
        var kind = (FrameKind)r.Byte("frame kind");
        var w = new FrameWriter(Limits.MaxFrameBytes);
        try
        {
            bool rootReopened = false;
            if (!_opened)
            {
                if (_initiator || kind != FrameKind.Open) throw new SyncProtocolException("a session starts with an Open frame");
                rootReopened = ReadOpen(ref r, ref w);
                _opened = true;
                if (_source is null) { IsFinished = true; return w.ToArray(); } // disjoint topics: Accept with no entries
            }
            else if (_initiator && MessagesReceived == 1)
            {
                if (kind != FrameKind.Accept) throw new SyncProtocolException("the responder answers with Accept");
                long agreed = (long)r.Varint("agreed start");
                if (agreed < AgreedStart || agreed > Math.Max(_end, AgreedStart)) throw new SyncProtocolException("agreed start outside the request");
                AgreedStart = agreed;
                _open[0] = _open[0] with { Lo = PositionOf(agreed) };
                w.Byte(Version);
                w.Byte((byte)FrameKind.Step);
            }
            else
            {
                if (kind != FrameKind.Step) throw new SyncProtocolException($"unexpected frame kind {(byte)kind}");
                w.Byte(Version);
                w.Byte((byte)FrameKind.Step);
            }

            var tasks = ReadEntries(ref r);
            if (rootReopened) tasks = [new Task { Node = _open[0], Type = EntryType.Fingerprint, RemoteCount = -1 }];
            if (tasks.Count == 0)
            {
                IsFinished = true;
                _open = [];
                // The responder always answers the Open frame, even when everything agrees.
                return kind == FrameKind.Open ? w.ToArray() : null;
            }
            var next = Answer(tasks, ref w);
            _open = next;
            if (next.Count == 0) IsFinished = true;
            return w.ToArray();
        }
        finally { w.Dispose(); }
    }

    // Reads the Open frame's header, writes the Accept header; true when our horizon moved the root's lower bound.
    bool ReadOpen(ref FrameReader r, ref FrameWriter w)
    {
        var pubsub = r.Topics("pubsub topic");
        var content = r.Topics("content topic");
        long start = (long)r.Varint("start"), end = (long)r.Varint("end"), horizon = (long)r.Varint("horizon");
        _key = BinaryPrimitives.ReadUInt64LittleEndian(r.Bytes(8, "nonce"));
        long requested = Math.Max(start, horizon);
        AgreedStart = Math.Max(requested, _horizon);
        if (end < requested) throw new SyncProtocolException("empty or inverted sync range");
        AgreedStart = Math.Min(AgreedStart, end);
        w.Byte(Version);
        w.Byte((byte)FrameKind.Accept);
        w.Varint((ulong)AgreedStart);
        var scope = _localScope.Intersect(pubsub, content);
        if (scope is null) return false;
        _source = _sources(scope);
        _open = [new Node(PositionOf(AgreedStart), PositionOf(end))];
        return AgreedStart != requested;
    }

    List<Task> ReadEntries(ref FrameReader r)
    {
        var tasks = new List<Task>();
        int at = 0;
        while (r.Remaining > 0)
        {
            if (at >= _open.Count) throw new SyncProtocolException("more entries than open nodes");
            var node = _open[at];
            var type = (EntryType)r.Byte("entry type");
            switch (type)
            {
                case EntryType.Done:
                    int run = r.Count("done run", 0, _open.Count - at);
                    if (run == 0) throw new SyncProtocolException("empty done run");
                    at += run;
                    continue;
                case EntryType.Fingerprint:
                    var (count, fp) = ReadFingerprint(ref r);
                    tasks.Add(new Task { Node = node, Type = type, RemoteCount = count, RemoteFp = fp });
                    break;
                case EntryType.Split:
                    UInt128 span = node.Hi - node.Lo;
                    int m = r.Count("fan-out", 1, MaxFanout);
                    if (m < 2 || (UInt128)m > span) throw new SyncProtocolException($"cannot split a node into {m}");
                    if (tasks.Count + m > Limits.MaxRangesPerMessage) throw new SyncProtocolException("too many nodes in one frame");
                    foreach (var child in Children(node, m))
                    {
                        var (c, f) = ReadFingerprint(ref r);
                        tasks.Add(new Task { Node = child, Type = EntryType.Fingerprint, RemoteCount = c, RemoteFp = f });
                    }
                    break;
                case EntryType.Items:
                    tasks.Add(new Task { Node = node, Type = type, Items = ReadItems(ref r, node) });
                    break;
                case EntryType.Extras:
                case EntryType.ItemsReply:
                    foreach (var item in ReadItems(ref r, node))
                        if (_source!.GetFingerprint(item, item.Successor()).Count == 0) WeNeed(item);
                    if (type == EntryType.ItemsReply)
                    {
                        var sent = node.Sent ?? throw new SyncProtocolException("an item reply for a node we did not list");
                        var bits = r.Bytes((sent.Length + 7) / 8, "lacking bitmap");
                        for (int i = 0; i < sent.Length; i++)
                            if ((bits[i >> 3] & (1 << (i & 7))) != 0) NeedsFromUs(sent[i]);
                    }
                    break;
                default:
                    throw new SyncProtocolException($"entry type {(byte)type}");
            }
            if (tasks.Count > Limits.MaxRangesPerMessage) throw new SyncProtocolException("too many nodes in one frame");
            at++;
        }
        // A frame with no entries at all closes every open node ("everything agrees").
        if (at != 0 && at != _open.Count) throw new SyncProtocolException($"entries cover {at} of {_open.Count} open nodes");
        return tasks;
    }

    List<Node> Answer(List<Task> tasks, ref FrameWriter w)
    {
        var source = _source!;
        double sumDiff = 0, sumCount = 0;
        int mismatched = 0;
        foreach (var t in tasks)
        {
            if (t.Type != EntryType.Fingerprint) continue;
            var fp = source.GetFingerprint(t.Node.From, t.Node.To);
            t.LocalCount = fp.Count;
            t.LocalXor = fp.Xor;
            if (t.RemoteCount == fp.Count && t.RemoteFp == KeyedFingerprint.Compute(fp, _key)) { t.Type = EntryType.Done; continue; }
            long delta = t.RemoteCount < 0 ? 0 : t.RemoteCount - fp.Count;
            sumDiff += Math.Max((double)delta * delta, 2);
            sumCount += Math.Max(Math.Max(t.RemoteCount, fp.Count), 1);
            mismatched++;
        }
        // Σ δ² estimates the number of differences when each is equally likely on either side (E[δ²] = D).
        double density = mismatched >= 8 ? sumDiff / sumCount : double.NaN;

        var next = new List<Node>();
        var scratch = new List<SyncItem>();
        int doneRun = 0;
        foreach (var t in tasks)
        {
            if (t.Type == EntryType.Done) { doneRun++; continue; }
            if (t.Type == EntryType.Items)
            {
                var lacking = new byte[(t.Items!.Length + 7) / 8];
                var extras = Merge(t.Node, t.Items!, scratch, lacking);
                if (extras.Count == 0 && lacking.All(b => b == 0)) { doneRun++; continue; }
                FlushDone(ref w, ref doneRun);
                WriteItems(ref w, EntryType.ItemsReply, t.Node, extras);
                w.Bytes(lacking);
                continue;
            }
            FlushDone(ref w, ref doneRun);
            AnswerFingerprint(t, density, ref w, next, scratch);
        }
        FlushDone(ref w, ref doneRun);
        return next;
    }

    void AnswerFingerprint(Task t, double density, ref FrameWriter w, List<Node> next, List<SyncItem> scratch)
    {
        var source = _source!;
        long cL = t.LocalCount, cR = t.RemoteCount;
        var node = t.Node;
        // The order matters: each rule hands the node to the side that can settle it, and no pair of rules
        // can bounce a node back and forth (spec/sync.md §3.2).
        if (cR < 0)
        {
            // Our horizon moved the root's lower bound: the peer's root fingerprint covers another range.
            Bounce(ref w, t, next);
            return;
        }
        if (cR == 0)
        {
            scratch.Clear();
            if (!source.ReadAll(node.From, node.To, scratch, Limits.MaxItemsPerSet)) throw new SyncProtocolException("node too large to send");
            foreach (var x in scratch) NeedsFromUs(x);
            WriteItems(ref w, EntryType.Extras, node, scratch);
            return;
        }
        if (cL == cR + 1 && cL <= SearchLimit && FindSingle(t, scratch) is { } single)
        {
            NeedsFromUs(single);
            scratch.Clear();
            scratch.Add(single);
            WriteItems(ref w, EntryType.Extras, node, scratch);
            return;
        }
        UInt128 span = node.Hi - node.Lo;
        if (cL <= ItemsThreshold || span < 2)
        {
            scratch.Clear();
            if (!source.ReadAll(node.From, node.To, scratch, Limits.MaxItemsPerSet)) throw new SyncProtocolException("node too large to send");
            WriteItems(ref w, EntryType.Items, node, scratch);
            next.Add(node with { Sent = scratch.ToArray() });
            return;
        }
        if (cR == cL + 1 || cR <= ItemsThreshold)
        {
            // The peer is better placed: it holds the one extra item, or so few items it will list them.
            Bounce(ref w, t, next);
            return;
        }
        long size = Math.Max(cL, Math.Max(cR, 0));
        double expected = double.IsNaN(density) ? Math.Max((double)(cR - cL) * (cR - cL), 2) : density * size;
        long m = (long)Math.Ceiling(SlicesPerDifference * expected);
        if (size >= 1024) m = Math.Max(m, MinFanoutLarge);
        m = Math.Clamp(m, 2, Math.Min(MaxFanout, 2 * size));
        if ((UInt128)m > span) m = (long)span;
        w.Byte((byte)EntryType.Split);
        w.Varint((ulong)m);
        foreach (var child in Children(node, (int)m))
        {
            WriteFingerprint(ref w, source.GetFingerprint(child.From, child.To));
            next.Add(child);
        }
    }

    void Bounce(ref FrameWriter w, Task t, List<Node> next)
    {
        w.Byte((byte)EntryType.Fingerprint);
        WriteFingerprint(ref w, new Fingerprint(t.LocalXor, t.LocalCount));
        next.Add(t.Node);
    }

    // The node differs by exactly one extra local item: find x with fp(local ⊖ x) = the peer's fingerprint.
    SyncItem? FindSingle(Task t, List<SyncItem> scratch)
    {
        scratch.Clear();
        if (!_source!.ReadAll(t.Node.From, t.Node.To, scratch, SearchLimit)) return null;
        SyncItem? found = null;
        foreach (var x in scratch)
        {
            if (KeyedFingerprint.Compute(t.LocalXor.Xor(x.Hash), t.LocalCount - 1, _key) != t.RemoteFp) continue;
            if (found is not null) return null; // two candidates: a 2^-64 event, let splitting decide
            found = x;
        }
        return found;
    }

    // Compares the peer's full item list of a node with ours; returns ours that the peer lacks and marks
    // in <paramref name="lacking"/> the positions of theirs that we lack.
    List<SyncItem> Merge(Node node, SyncItem[] theirs, List<SyncItem> local, byte[] lacking)
    {
        local.Clear();
        if (!_source!.ReadAll(node.From, node.To, local, Limits.MaxItemsPerSet)) throw new SyncProtocolException("node too large to compare");
        var extras = new List<SyncItem>();
        int i = 0, j = 0;
        while (i < theirs.Length || j < local.Count)
        {
            int c = i == theirs.Length ? 1 : j == local.Count ? -1 : theirs[i].CompareTo(local[j]);
            if (c < 0) { lacking[i >> 3] |= (byte)(1 << (i & 7)); WeNeed(theirs[i++]); }
            else if (c > 0) { NeedsFromUs(local[j]); extras.Add(local[j++]); }
            else { i++; j++; }
        }
        return extras;
    }

    static IEnumerable<Node> Children(Node node, int m)
    {
        UInt128 span = node.Hi - node.Lo;
        UInt128 step = span / (uint)m, rest = span % (uint)m;
        UInt128 lo = node.Lo;
        for (int i = 0; i < m; i++)
        {
            UInt128 hi = lo + step + ((UInt128)(uint)i < rest ? 1u : 0u);
            yield return new Node(lo, hi);
            lo = hi;
        }
    }

    static void FlushDone(ref FrameWriter w, ref int run)
    {
        if (run == 0) return;
        w.Byte((byte)EntryType.Done);
        w.Varint((ulong)run);
        run = 0;
    }

    void WriteFingerprint(ref FrameWriter w, in Fingerprint fp)
    {
        w.Varint((ulong)fp.Count);
        if (fp.Count == 0) return;
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, KeyedFingerprint.Compute(fp, _key));
        w.Bytes(bytes);
    }

    static (long Count, ulong Fp) ReadFingerprint(ref FrameReader r)
    {
        ulong count = r.Varint("count");
        if (count > long.MaxValue) throw new SyncProtocolException("count out of range");
        return count == 0 ? (0, 0) : ((long)count, BinaryPrimitives.ReadUInt64LittleEndian(r.Bytes(8, "fingerprint")));
    }

    static void WriteItems(ref FrameWriter w, EntryType type, Node node, List<SyncItem> items)
    {
        w.Byte((byte)type);
        w.Varint((ulong)items.Count);
        long previous = node.From.Timestamp;
        foreach (var x in items)
        {
            w.Varint(unchecked((ulong)(x.Timestamp - previous)));
            previous = x.Timestamp;
            w.Hash(x.Hash);
        }
    }

    SyncItem[] ReadItems(ref FrameReader r, Node node)
    {
        int k = r.Count("item count", 33, Limits.MaxItemsPerSet);
        var items = new SyncItem[k];
        long previous = node.From.Timestamp;
        for (int i = 0; i < k; i++)
        {
            previous = unchecked(previous + (long)r.Varint("item time delta"));
            items[i] = new SyncItem(previous, r.Hash("item hash"));
            if (!node.Contains(items[i]) || (i > 0 && items[i - 1] >= items[i]))
                throw new SyncProtocolException("items must ascend inside their node");
        }
        return items;
    }
}
