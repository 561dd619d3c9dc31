using System.Buffers.Binary;
using System.Runtime.InteropServices;
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
/// A received frame is read twice: a survey validates every entry and summarises our side of each node the
/// peer asks about (16 bytes per node), then the answer pass re-reads it and writes the reply, so the memory
/// of a frame is bounded by its node count, not by per-node objects.
/// </remarks>
public sealed class NativeReconciliation : ReconciliationSession
{
    public const string ProtocolId = "/storesync/reconciliation/1.0.0";
    public const byte Version = 1;

    /// <summary>Default of <see cref="NativeTuning.ItemsThreshold"/>.</summary>
    public const int ItemsThreshold = 2;

    /// <summary>Default of <see cref="NativeTuning.SlicesPerDifference"/> (spec/sync.md §3.5).</summary>
    public const double SlicesPerDifference = 2;

    /// <summary>Default of <see cref="NativeTuning.MinFanoutLarge"/>.</summary>
    public const int MinFanoutLarge = 16;

    public const int MaxFanout = 1 << 16;

    /// <summary>Narrowest fingerprint a peer may ask for in its Open frame (spec/sync.md §3.3).</summary>
    public const int MinFingerprintBytes = 4;

    // The keyed fingerprint truncated to the session's width (its low bytes on the wire, little-endian).
    ulong Keyed(in MessageHash xor, long count)
    {
        ulong v = KeyedFingerprint.Compute(xor, count, _key);
        return _fpBytes == 8 ? v : v & ((1UL << (8 * _fpBytes)) - 1);
    }

    /// <summary>Largest node scanned for the single-difference search; larger ones are split instead.</summary>
    public const int SearchLimit = 1 << 16;

    /// <summary>Largest node (or run of sibling nodes) read once and cut in memory rather than by one index lookup per bound.</summary>
    const int SliceInMemoryLimit = 1 << 16;

    /// <summary>Reading a node's items beats index lookups while it holds fewer than this many items per bound.</summary>
    const int ItemsPerLookup = 48;

    /// <summary>A node of at most this many items is summarised from one store read instead of two index lookups.</summary>
    const int SmallNode = 128;

    /// <summary>An open node; <c>SentCount</c> items from <c>SentStart</c> in the listed-items buffer are the items we
    /// listed in it (-1: none), to read the peer's bitmap against.</summary>
    readonly record struct Node(UInt128 Lo, UInt128 Hi, int SentStart = -1, int SentCount = 0)
    {
        public SyncItem From => SyncItem.FromPosition(Lo);
        public SyncItem To => SyncItem.FromPosition(Hi);
        public bool Contains(in SyncItem item) => item >= From && item < To;
    }

    /// <summary>A node the peer's frame asks us to answer: what it said, and our summary from the survey.</summary>
    struct Pending
    {
        public Node Node;
        public long RemoteCount, LocalCount;
        public ulong RemoteFp, LocalFp;
        public bool Fresh; // first seen in this frame (a split child or the Open frame's root), not handed back to us
    }

    /// <summary>What the survey of a frame found: our (count, keyed fingerprint) per asked node and the density estimate.</summary>
    sealed class Survey
    {
        public readonly ChunkedList<long> Counts = new();
        public readonly ChunkedList<ulong> Fps = new();
        public int Tasks, Unsettled;
        public readonly ChunkedList<float> Squares = new(), Sizes = new(); // per differing node: max(δ², 2), max(counts)
        public int Mismatched;
        // Sibling groups (the children of one split): Σ −m·ln(agreeing / m) and Σ items over groups where some agree,
        // and how many non-empty children fell in groups where none agreed.
        public double Clusters, ClusterItems;
        public long Unsaturated, Saturated;

        public void AddSiblings(int nonEmpty, int agreed, long items)
        {
            if (nonEmpty < 4) return;
            if (agreed == 0) { Saturated += nonEmpty; return; }
            Clusters += nonEmpty * Math.Log((double)nonEmpty / agreed);
            ClusterItems += items;
            Unsaturated += nonEmpty;
        }

        public void Clear()
        {
            Counts.Clear();
            Fps.Clear();
            Squares.Clear();
            Sizes.Clear();
            Tasks = Unsettled = Mismatched = 0;
            Clusters = ClusterItems = 0;
            Unsaturated = Saturated = 0;
        }
    }

    readonly SyncScope _localScope;
    readonly Func<SyncScope, ISyncItemSource> _sources;
    readonly long _start, _end, _horizon;
    readonly bool _initiator;
    readonly NativeTuning _tuning;
    readonly long[] _entryBytes = new long[6], _entryCounts = new long[6];
    readonly List<SyncItem> _scratch = [], _extras = [], _received = [];
    readonly List<SyncItem> _bounds = [];
    readonly List<Fingerprint> _fps = [];
    ISyncItemSource? _source;
    ulong _key;
    int _fpBytes = 8;
    // Open nodes and the items we listed in them; the spares are last frame's buffers, reused so that a frame of a
    // million nodes leaves no garbage behind.
    ChunkedList<Node> _open = new(), _spareOpen = new();
    ChunkedList<SyncItem> _listed = new(), _spareListed = new();
    readonly Survey _survey = new();
    bool _opened;

    /// <summary>Creates an initiator (give <paramref name="start"/> &lt; <paramref name="end"/>) or a responder (leave them 0).</summary>
    /// <param name="horizon">Oldest timestamp this node keeps on purpose; nothing older is reconciled.</param>
    public NativeReconciliation(SyncScope localScope, Func<SyncScope, ISyncItemSource> sources, long start = 0, long end = 0,
        long horizon = long.MinValue, SyncLimits? limits = null) : this(localScope, sources, start, end, horizon, limits, null)
    {
    }

    /// <summary>As the other constructor, with a local splitting policy (the wire format does not depend on it).</summary>
    public NativeReconciliation(SyncScope localScope, Func<SyncScope, ISyncItemSource> sources, long start, long end,
        long horizon, SyncLimits? limits, NativeTuning? tuning) : base(limits)
    {
        _localScope = localScope;
        _sources = sources;
        _start = start;
        _end = end;
        _horizon = horizon;
        _initiator = end > start;
        _tuning = tuning ?? NativeTuning.Default;
        _tuning.Validate();
    }

    /// <summary>A responder's own horizon for the scope agreed in Open (it is known only then), raised to at least the
    /// constructor's horizon; null: the constructor's horizon alone.</summary>
    public Func<SyncScope, long>? HorizonOf { get; init; }

    /// <summary>The initiator's Open nonce, the fingerprint key (its 8 bytes little-endian); null: random, as a live
    /// session must be (spec/sync.md §3.3). A fixed nonce makes frames reproducible for golden tests.</summary>
    public ulong? Nonce { get; init; }

    /// <summary>The lower time bound both sides agreed on (max of the requested start and both horizons).</summary>
    public long AgreedStart { get; private set; }

    /// <summary>Bytes this session wrote in entries of <paramref name="type"/> (frame headers not included).</summary>
    public long EntryBytesSent(EntryType type) => _entryBytes[(int)type];

    /// <summary>Entries of <paramref name="type"/> this session wrote (a Done entry counts once, whatever its run).</summary>
    public long EntriesSent(EntryType type) => _entryCounts[(int)type];

    void Account(EntryType type, int startLength, in FrameWriter w)
    {
        _entryBytes[(int)type] += w.Length - startLength;
        _entryCounts[(int)type]++;
    }

    static UInt128 PositionOf(long timestamp) => SyncItem.At(timestamp).Position;

    public override byte[] Initiate()
    {
        if (!_initiator) throw new InvalidOperationException("a responder does not initiate");
        _source = _sources(_localScope);
        Span<byte> nonce = stackalloc byte[8];
        if (Nonce is { } fixedNonce) BinaryPrimitives.WriteUInt64LittleEndian(nonce, fixedNonce);
        else RandomNumberGenerator.Fill(nonce);
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
            _fpBytes = _tuning.FingerprintBytes;
            w.Byte((byte)_fpBytes);
            var fp = _source.GetFingerprint(root.From, root.To);
            int at = w.Length;
            w.Byte((byte)EntryType.Fingerprint);
            WriteFingerprint(ref w, fp);
            Account(EntryType.Fingerprint, at, w);
            _open.Add(root);
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

            var entries = frame[r.Position..];
            var survey = SurveyEntries(entries, rootReopened);
            var next = AnswerEntries(entries, survey, rootReopened, ref w);
            (_open, _spareOpen) = (next, _open);
            (_listed, _spareListed) = (_spareListed, _listed);
            if (survey.Tasks == 0)
            {
                IsFinished = true;
                // The responder always answers the Open frame, even when everything agrees.
                return kind == FrameKind.Open ? w.ToArray() : null;
            }
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
        int fpBytes = r.Byte("fingerprint width");
        if (fpBytes is < MinFingerprintBytes or > 8) throw new SyncProtocolException($"fingerprint width {fpBytes}");
        _fpBytes = fpBytes;
        long requested = Math.Max(start, horizon);
        var scope = _localScope.Intersect(pubsub, content);
        AgreedStart = Math.Max(requested, scope is not null && HorizonOf is { } horizonOf ? Math.Max(_horizon, horizonOf(scope)) : _horizon);
        if (end < requested) throw new SyncProtocolException("empty or inverted sync range");
        AgreedStart = Math.Min(AgreedStart, end);
        w.Byte(Version);
        w.Byte((byte)FrameKind.Accept);
        w.Varint((ulong)AgreedStart);
        if (scope is null) return false;
        _source = _sources(scope);
        _open.Add(new Node(PositionOf(AgreedStart), PositionOf(end)));
        return AgreedStart != requested;
    }

    // Pass 1: checks every entry against the open nodes and the limits (nothing is changed before the whole frame is
    // known to be valid) and computes our summary of every node the peer asks us to answer.
    Survey SurveyEntries(ReadOnlySpan<byte> entries, bool rootReopened)
    {
        var survey = _survey;
        survey.Clear();
        var r = new FrameReader(entries);
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
                {
                    var (count, fp) = ReadFingerprint(ref r);
                    Record(survey, rootReopened ? -1 : count, fp, LocalFingerprint(node));
                    break;
                }
                case EntryType.Split:
                {
                    int m = ReadFanout(ref r, node, survey.Tasks);
                    LocalChildren(node, m);
                    int nonEmpty = 0, agreed = 0;
                    long size = 0;
                    for (int i = 0; i < m; i++)
                    {
                        var (c, f) = ReadFingerprint(ref r);
                        bool agrees = Record(survey, c, f, _fps[i]);
                        if (c == 0 && _fps[i].Count == 0) continue; // an empty slice says nothing about the density
                        nonEmpty++;
                        size += Math.Max(c, _fps[i].Count);
                        if (agrees) agreed++;
                    }
                    survey.AddSiblings(nonEmpty, agreed, size);
                    break;
                }
                case EntryType.Items:
                    SkipItems(ref r, node);
                    survey.Tasks++;
                    survey.Counts.Add(0);
                    survey.Fps.Add(0);
                    break;
                case EntryType.Extras:
                    SkipItems(ref r, node);
                    break;
                case EntryType.ItemsReply:
                    SkipItems(ref r, node);
                    if (node.SentStart < 0) throw new SyncProtocolException("an item reply for a node we did not list");
                    r.Bytes((node.SentCount + 7) / 8, "lacking bitmap");
                    break;
                default:
                    throw new SyncProtocolException($"entry type {(byte)type}");
            }
            if (survey.Tasks > Limits.MaxRangesPerMessage) throw new SyncProtocolException("too many nodes in one frame");
            at++;
        }
        // A frame with no entries at all closes every open node ("everything agrees").
        if (at != 0 && at != _open.Count) throw new SyncProtocolException($"entries cover {at} of {_open.Count} open nodes");
        return survey;
    }

    // Records our summary of one asked node; true when it agrees with the peer's.
    bool Record(Survey survey, long remoteCount, ulong remoteFp, in Fingerprint local)
    {
        ulong fp = local.Count == 0 ? 0 : Keyed(local.Xor, local.Count);
        survey.Tasks++;
        survey.Counts.Add(local.Count);
        survey.Fps.Add(fp);
        if (remoteCount == local.Count && remoteFp == fp) return true;
        survey.Unsettled++;
        // Σ δ² estimates the number of differences when each is equally likely on either side (E[δ²] = D).
        long delta = remoteCount < 0 ? 0 : remoteCount - local.Count;
        survey.Squares.Add((float)Math.Max((double)delta * delta, 2));
        survey.Sizes.Add(Math.Max(Math.Max(remoteCount, local.Count), 1));
        survey.Mismatched++;
        return false;
    }

    /// <summary>
    /// Independent differences per item in the frame's differing nodes, and whether it was confirmed by agreeing
    /// siblings; NaN with too little to go on.
    /// </summary>
    /// <remarks>
    /// Best evidence: in a split into m non-empty slices of which z agree, the differences fell into about
    /// m·ln(m/z) independent places (Poisson), whatever their sizes — a run of 100 items missing on one side counts once,
    /// which is what splitting must isolate. Without agreeing siblings (the first levels), δ² of a node is the estimate:
    /// E[δ²] = D when each difference is equally likely on either side, but δ² ≈ D² when they cluster on one side (a peer
    /// offline for an hour), so each node's δ²/count is capped at 8 × the frame's median before pooling and splits based
    /// on it are capped (<see cref="NativeTuning.UnconfirmedFanoutCap"/>); spec/sync.md §3.5 has the measurements.
    /// </remarks>
    (double Density, bool Confirmed) Density(Survey survey)
    {
        if (_tuning.AgreementDensity && survey.Unsaturated >= 16 && survey.Unsaturated >= survey.Saturated && survey.ClusterItems > 0)
            return (survey.Clusters / survey.ClusterItems, true);
        int k = survey.Mismatched;
        if (k < 8) return (double.NaN, false);
        // The median of up to 1024 evenly spaced samples is plenty for a cap.
        int samples = Math.Min(k, 1024);
        var ratios = new double[samples];
        for (int i = 0; i < samples; i++)
        {
            int j = (int)((long)i * k / samples);
            ratios[i] = survey.Squares[j] / survey.Sizes[j];
        }
        Array.Sort(ratios);
        double cap = 8 * ratios[samples / 2];
        double squares = 0, sizes = 0;
        for (int i = 0; i < k; i++)
        {
            double size = survey.Sizes[i];
            squares += Math.Min(survey.Squares[i], cap * size);
            sizes += size;
        }
        return (squares / sizes, false);
    }

    // Pass 2: the same entries again (already validated), now changing state and writing the answer.
    ChunkedList<Node> AnswerEntries(ReadOnlySpan<byte> entries, Survey survey, bool rootReopened, ref FrameWriter w)
    {
        var (density, confirmed) = Density(survey);
        var next = _spareOpen;
        next.Clear();
        _spareListed.Clear(); // receives the items we list in this answer
        var r = new FrameReader(entries);
        Span<SyncItem> probe = stackalloc SyncItem[1];
        int at = 0, task = 0, doneRun = 0, unsettled = survey.Unsettled;
        while (r.Remaining > 0)
        {
            var node = _open[at];
            var type = (EntryType)r.Byte("entry type");
            switch (type)
            {
                case EntryType.Done:
                    at += (int)r.Varint("done run");
                    continue;
                case EntryType.Fingerprint:
                {
                    var (count, fp) = ReadFingerprint(ref r);
                    // Only the Open frame's root is a first look; any other Fingerprint entry hands back a node we answered.
                    var p = new Pending { Node = node, RemoteCount = rootReopened ? -1 : count, RemoteFp = fp, Fresh = !_initiator && MessagesReceived == 1 };
                    AnswerNode(ref p, survey, task++, density, confirmed, ref unsettled, ref doneRun, ref w, next);
                    break;
                }
                case EntryType.Split:
                {
                    int m = (int)r.Varint("fan-out");
                    var slices = new Slices(node, m);
                    for (int i = 0; i < m; i++)
                    {
                        var (c, f) = ReadFingerprint(ref r);
                        var p = new Pending { Node = slices[i], RemoteCount = c, RemoteFp = f, Fresh = true };
                        AnswerNode(ref p, survey, task++, density, confirmed, ref unsettled, ref doneRun, ref w, next);
                    }
                    break;
                }
                case EntryType.Items:
                {
                    task++;
                    var theirs = ReadItems(ref r, node);
                    var lacking = new byte[(theirs.Count + 7) / 8];
                    bool lacks = Merge(node, theirs, lacking);
                    if (_extras.Count == 0 && !lacks) { doneRun++; break; }
                    FlushDone(ref w, ref doneRun);
                    int start = w.Length;
                    WriteItems(ref w, EntryType.ItemsReply, node, _extras);
                    w.Bytes(lacking);
                    Account(EntryType.ItemsReply, start, w);
                    break;
                }
                case EntryType.Extras:
                case EntryType.ItemsReply:
                    // One store read per announced item: do we already hold it?
                    foreach (var item in ReadItems(ref r, node))
                        if (_source!.Read(item, item.Successor(), probe) == 0) WeNeed(item);
                    if (type == EntryType.ItemsReply)
                    {
                        var bits = r.Bytes((node.SentCount + 7) / 8, "lacking bitmap");
                        for (int i = 0; i < node.SentCount; i++)
                            if ((bits[i >> 3] & (1 << (i & 7))) != 0) NeedsFromUs(_listed[node.SentStart + i]);
                    }
                    break;
            }
            at++;
        }
        FlushDone(ref w, ref doneRun);
        return next;
    }

    void AnswerNode(ref Pending p, Survey survey, int task, double density, bool confirmed, ref int unsettled, ref int doneRun, ref FrameWriter w, ChunkedList<Node> next)
    {
        p.LocalCount = survey.Counts[task];
        p.LocalFp = survey.Fps[task];
        if (p.RemoteCount == p.LocalCount && p.RemoteFp == p.LocalFp) { doneRun++; return; }
        unsettled--;
        FlushDone(ref w, ref doneRun);
        // Every other unsettled node may need one node of its own; splits share what is left of the peer's limit.
        AnswerFingerprint(ref p, density, confirmed, Limits.MaxRangesPerMessage - next.Count - unsettled, _tuning.ItemsThreshold, ref w, next);
    }

    /// <param name="budget">Nodes this answer may open without the frame exceeding the peer's limit on open nodes.</param>
    void AnswerFingerprint(ref Pending t, double density, bool confirmed, int budget, int itemsThreshold, ref FrameWriter w, ChunkedList<Node> next)
    {
        var source = _source!;
        var scratch = _scratch;
        long cL = t.LocalCount, cR = t.RemoteCount;
        var node = t.Node;
        int at = w.Length;
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
            Account(EntryType.Extras, at, w);
            return;
        }
        if (_tuning.SingleDifferenceSearch && cL == cR + 1 && cL <= SearchLimit && FindSingle(t) is { } single)
        {
            NeedsFromUs(single);
            scratch.Clear();
            scratch.Add(single);
            WriteItems(ref w, EntryType.Extras, node, scratch);
            Account(EntryType.Extras, at, w);
            return;
        }
        if (_tuning.BounceBeforeItems && _tuning.SingleDifferenceSearch && t.Fresh && cR == cL + 1 && budget >= 1)
        {
            // The peer probably holds the one extra item: 9 bytes let it find it, cheaper than listing ours.
            Bounce(ref w, t, next);
            return;
        }
        UInt128 span = node.Hi - node.Lo;
        if (cL <= itemsThreshold || span < 2)
        {
            scratch.Clear();
            if (!source.ReadAll(node.From, node.To, scratch, Limits.MaxItemsPerSet)) throw new SyncProtocolException("node too large to send");
            WriteItems(ref w, EntryType.Items, node, scratch);
            Account(EntryType.Items, at, w);
            next.Add(node with { SentStart = _spareListed.Count, SentCount = scratch.Count });
            foreach (var x in scratch) _spareListed.Add(x);
            return;
        }
        if (t.Fresh && ((_tuning.SingleDifferenceSearch && cR == cL + 1) || cR <= itemsThreshold))
        {
            // The peer is better placed: it holds the one extra item, or so few items it will list them. Only a node
            // seen for the first time is handed over: one handed back to us is listed or split here, so no two
            // policies (the peer's may differ) can pass a node back and forth.
            Bounce(ref w, t, next);
            return;
        }
        long size = Math.Max(cL, cR);
        long m;
        if (_tuning.FixedFanout > 0) m = _tuning.FixedFanout;
        else
        {
            double delta = Math.Abs(cR - cL), expected;
            if (double.IsNaN(density)) expected = Math.Max(delta * delta, 2);
            else if (confirmed)
            {
                // Places expected in a node known to differ: λ / (1 − e^−λ) for λ expected over all nodes of its size.
                double lambda = density * size;
                expected = lambda < 1e-9 ? 1 : lambda / (1 - Math.Exp(-lambda));
            }
            else expected = density * size;
            // A node differing by δ in count holds at least |δ| differences, whatever the estimate says.
            m = (long)Math.Ceiling(_tuning.SlicesPerDifference * Math.Max(expected, delta));
            if (!confirmed) m = Math.Min(m, _tuning.UnconfirmedFanoutCap);
            if (size >= _tuning.LargeNode) m = Math.Max(m, _tuning.MinFanoutLarge);
        }
        m = Math.Clamp(m, 2, Math.Min(MaxFanout, 2 * size));
        if ((UInt128)m > span) m = (long)span;
        m = Math.Min(m, budget);
        if (m < 2)
        {
            // No room for children in this frame: hand the node back; it is split in a later frame.
            Bounce(ref w, t, next);
            return;
        }
        w.Byte((byte)EntryType.Split);
        w.Varint((ulong)m);
        LocalChildren(node, (int)m);
        var slices = new Slices(node, (int)m);
        for (int i = 0; i < m; i++)
        {
            WriteFingerprint(ref w, _fps[i]);
            next.Add(slices[i]);
        }
        Account(EntryType.Split, at, w);
    }

    // Our summary of one node: a small node is cheaper to read (one store read) than two index lookups.
    Fingerprint LocalFingerprint(Node node)
    {
        _scratch.Clear();
        if (_source!.ReadAll(node.From, node.To, _scratch, SmallNode)) return Fingerprint.Of(CollectionsMarshal.AsSpan(_scratch));
        return _source!.GetFingerprint(node.From, node.To);
    }

    // Our fingerprints of the m children of a node into _fps: a node of up to ItemsPerLookup items per child is read
    // once and cut in memory, a larger one costs m + 1 index lookups.
    void LocalChildren(Node node, int m)
    {
        var source = _source!;
        var slices = new Slices(node, m);
        _fps.Clear();
        _scratch.Clear();
        if (source.ReadAll(node.From, node.To, _scratch, (int)Math.Min(SliceInMemoryLimit, (long)ItemsPerLookup * (m + 1))))
        {
            int i = 0;
            for (int c = 0; c < m; c++)
            {
                var to = slices[c].To;
                ulong w0 = 0, w1 = 0, w2 = 0, w3 = 0;
                int count = 0;
                for (; i < _scratch.Count && _scratch[i] < to; i++, count++)
                {
                    var h = _scratch[i].Hash;
                    w0 ^= h.W0; w1 ^= h.W1; w2 ^= h.W2; w3 ^= h.W3;
                }
                _fps.Add(new Fingerprint(new MessageHash(w0, w1, w2, w3), count));
            }
            return;
        }
        _bounds.Clear();
        _bounds.Add(node.From);
        for (int c = 0; c < m; c++) { _bounds.Add(slices[c].To); _fps.Add(default); }
        source.GetFingerprints(CollectionsMarshal.AsSpan(_bounds), CollectionsMarshal.AsSpan(_fps));
    }

    void Bounce(ref FrameWriter w, in Pending t, ChunkedList<Node> next)
    {
        int at = w.Length;
        w.Byte((byte)EntryType.Fingerprint);
        w.Varint((ulong)t.LocalCount);
        if (t.LocalCount > 0)
        {
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, t.LocalFp);
            w.Bytes(bytes[.._fpBytes]);
        }
        Account(EntryType.Fingerprint, at, w);
        next.Add(t.Node);
    }

    // The node differs by exactly one extra local item: find x with fp(local ⊖ x) = the peer's fingerprint.
    SyncItem? FindSingle(in Pending t)
    {
        var scratch = _scratch;
        scratch.Clear();
        if (!_source!.ReadAll(t.Node.From, t.Node.To, scratch, SearchLimit)) return null;
        var xor = Fingerprint.Of(CollectionsMarshal.AsSpan(scratch)).Xor;
        SyncItem? found = null;
        foreach (var x in scratch)
        {
            if (Keyed(xor.Xor(x.Hash), t.LocalCount - 1) != t.RemoteFp) continue;
            if (found is not null) return null; // two candidates: a 2^-64 event, let splitting decide
            found = x;
        }
        return found;
    }

    // Compares the peer's full item list of a node with ours: marks the positions of theirs that we lack.
    // in <paramref name="lacking"/> the positions of theirs that we lack (true if any); ours the peer lacks go to _extras.
    bool Merge(Node node, List<SyncItem> theirs, byte[] lacking)
    {
        var local = _scratch;
        local.Clear();
        if (!_source!.ReadAll(node.From, node.To, local, Limits.MaxItemsPerSet)) throw new SyncProtocolException("node too large to compare");
        var extras = _extras;
        extras.Clear();
        bool lacks = false;
        int i = 0, j = 0;
        while (i < theirs.Count || j < local.Count)
        {
            int c = i == theirs.Count ? 1 : j == local.Count ? -1 : theirs[i].CompareTo(local[j]);
            if (c < 0) { lacking[i >> 3] |= (byte)(1 << (i & 7)); lacks = true; WeNeed(theirs[i++]); }
            else if (c > 0) { NeedsFromUs(local[j]); extras.Add(local[j++]); }
            else { i++; j++; }
        }
        return lacks;
    }

    int ReadFanout(ref FrameReader r, Node node, int tasks)
    {
        UInt128 span = node.Hi - node.Lo;
        int m = r.Count("fan-out", 1, MaxFanout);
        if (m < 2 || (UInt128)m > span) throw new SyncProtocolException($"cannot split a node into {m}");
        if (tasks + m > Limits.MaxRangesPerMessage) throw new SyncProtocolException("too many nodes in one frame");
        return m;
    }

    /// <summary>The m equal position slices of a node, the remainder going to the first ones; one division per split.</summary>
    readonly struct Slices
    {
        readonly UInt128 _lo, _step;
        readonly ulong _rest;

        public Slices(Node node, int m)
        {
            UInt128 span = node.Hi - node.Lo;
            _lo = node.Lo;
            _step = span / (uint)m;
            _rest = (ulong)(span % (uint)m);
        }

        public Node this[int i]
        {
            get
            {
                ulong k = (ulong)i;
                UInt128 lo = _lo + _step * k + Math.Min(k, _rest);
                return new Node(lo, lo + _step + (k < _rest ? 1u : 0u));
            }
        }
    }

    void FlushDone(ref FrameWriter w, ref int run)
    {
        if (run == 0) return;
        int at = w.Length;
        w.Byte((byte)EntryType.Done);
        w.Varint((ulong)run);
        Account(EntryType.Done, at, w);
        run = 0;
    }

    void WriteFingerprint(ref FrameWriter w, in Fingerprint fp)
    {
        w.Varint((ulong)fp.Count);
        if (fp.Count == 0) return;
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, Keyed(fp.Xor, fp.Count));
        w.Bytes(bytes[.._fpBytes]);
    }

    (long Count, ulong Fp) ReadFingerprint(ref FrameReader r)
    {
        ulong count = r.Varint("count");
        if (count > long.MaxValue) throw new SyncProtocolException("count out of range");
        if (count == 0) return (0, 0);
        Span<byte> bytes = stackalloc byte[8];
        bytes.Clear();
        r.Bytes(_fpBytes, "fingerprint").CopyTo(bytes);
        return ((long)count, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
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

    void SkipItems(ref FrameReader r, Node node)
    {
        int k = r.Count("item count", 33, Limits.MaxItemsPerSet);
        long previous = node.From.Timestamp;
        SyncItem last = default;
        for (int i = 0; i < k; i++)
        {
            previous = unchecked(previous + (long)r.Varint("item time delta"));
            var item = new SyncItem(previous, r.Hash("item hash"));
            if (!node.Contains(item) || (i > 0 && last >= item))
                throw new SyncProtocolException("items must ascend inside their node");
            last = item;
        }
    }

    // The items of an entry the survey has already checked, into a reused buffer.
    List<SyncItem> ReadItems(ref FrameReader r, Node node)
    {
        int k = r.Count("item count", 33, Limits.MaxItemsPerSet);
        var items = _received;
        items.Clear();
        long previous = node.From.Timestamp;
        for (int i = 0; i < k; i++)
        {
            previous = unchecked(previous + (long)r.Varint("item time delta"));
            items.Add(new SyncItem(previous, r.Hash("item hash")));
        }
        return items;
    }
}
