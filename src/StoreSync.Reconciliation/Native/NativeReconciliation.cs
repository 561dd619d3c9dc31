using System.Buffers.Binary;
using System.Security.Cryptography;

namespace StoreSync.Reconciliation.Native;

/// <summary>A session of StoreSync's own /storesync/reconciliation/4.0.0 (or 3.0.0, 2.0.0 with an older peer), initiator or
/// responder (spec/sync.md §3).</summary>
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
/// The pieces: <see cref="EntryCodec"/> (entry fields), <see cref="Survey"/> (pass 1), <see cref="FanoutEstimator"/>
/// (split sizes), <see cref="Slices"/> (cutting a node), <see cref="LocalSide"/> (our side of a node).
/// </remarks>
public sealed partial class NativeReconciliation : ReconciliationSession
{
    /// <summary>Version 4 (the count-only Open: the root's fingerprint once, a count per slice): a version-3 peer cannot read
    /// it, so it has its own multistream id; the earlier versions stay negotiable (spec/sync.md §3.6).</summary>
    public const string ProtocolId = "/storesync/reconciliation/4.0.0";
    public const byte Version = 4;

    /// <summary>Version 3 (the Closing entry), still spoken with a peer that offers no later one: Open's slices carry
    /// fingerprints.</summary>
    public const string ProtocolIdV3 = "/storesync/reconciliation/3.0.0";
    public const byte VersionV3 = 3;

    /// <summary>Version 2 (Open carries the root's first split, the Missing entry): version 3 without Closing entries.</summary>
    public const string ProtocolIdV2 = "/storesync/reconciliation/2.0.0";
    public const byte VersionV2 = 2;

    /// <summary>The native protocol ids this build speaks, newest first: the order an initiator proposes them in.</summary>
    public static IReadOnlyList<string> ProtocolIds { get; } = [ProtocolId, ProtocolIdV3, ProtocolIdV2];

    /// <summary>The frame version of a native protocol id (4, 3 or 2); null for any other id.</summary>
    public static byte? VersionOf(string protocolId) => protocolId switch
    {
        ProtocolId => Version,
        ProtocolIdV3 => VersionV3,
        ProtocolIdV2 => VersionV2,
        _ => null,
    };

    /// <summary>Default of <see cref="NativeTuning.ItemsThreshold"/>.</summary>
    public const int ItemsThreshold = 2;

    /// <summary>Default of <see cref="NativeTuning.SlicesPerDifference"/> (spec/sync.md §3.5).</summary>
    public const double SlicesPerDifference = 2;

    /// <summary>Default of <see cref="NativeTuning.MinFanoutLarge"/>.</summary>
    public const int MinFanoutLarge = 16;

    public const int MaxFanout = 1 << 16;

    /// <summary>Most slices the Open frame's root is split into while looking for <see cref="NativeTuning.OpenSlices"/> that hold items.</summary>
    public const int MaxOpenFanout = 1024;

    /// <summary>Narrowest fingerprint a peer may ask for in its Open frame (spec/sync.md §3.3).</summary>
    public const int MinFingerprintBytes = 4;

    /// <summary>Largest node scanned for the single-difference search; larger ones are split instead.</summary>
    public const int SearchLimit = 1 << 16;

    /// <summary>Largest node searched for two extra items (rule 2): C(256, 2) = 32,640 candidates.</summary>
    public const int PairSearchLimit = 256;

    /// <summary>Pair-search candidates one frame may test; past it, nodes are split instead, so a peer cannot make a frame
    /// cost more than ~2^22 fingerprint mixes (tens of milliseconds) whatever it sends.</summary>
    public const long PairSearchBudget = 1L << 22;

    /// <summary>A node the peer's frame asks us to answer: what it said, and our summary from the survey.</summary>
    struct Pending
    {
        public OpenNode Node;
        public long RemoteCount, LocalCount;
        public ulong RemoteFp, LocalFp;
        public bool Fresh; // first seen in this frame (a split child or the Open frame's root), not handed back to us
        public bool CountOnly; // a child of the Open frame's Counts entry: the peer sent its count and a hint, not its fingerprint
        public bool LooksAgreeing; // a CountOnly slice whose count and hint equal ours: most likely the same items
    }

    readonly SyncScope _localScope;
    readonly Func<SyncScope, ISyncItemSource> _sources;
    readonly long _start, _end, _horizon;
    readonly bool _initiator;
    readonly NativeTuning _tuning;
    static readonly int EntryTypes = Enum.GetValues<EntryType>().Length;
    readonly long[] _entryBytes = new long[EntryTypes], _entryCounts = new long[EntryTypes];
    readonly SyncItemSet _offered = new();
    readonly List<BlindRange> _blind = [], _offerRanges = [];
    readonly List<SyncItem> _extras = [], _received = [], _found = [];
    readonly EntryCodec _codec = new();
    LocalSide? _local;
    // Open nodes and the items we listed in them; the spares are last frame's buffers, reused so that a frame of a
    // million nodes leaves no garbage behind.
    ChunkedList<OpenNode> _open = new(), _spareOpen = new();
    ChunkedList<SyncItem> _listed = new(), _spareListed = new();
    readonly Survey _survey = new();
    bool _opened;
    long _pairSearchSpent; // candidates tested in the frame being answered

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
        if (_tuning.TargetRoundTrips > 0 && _tuning.PlanMinDensity > 0) _unplanned = _tuning with { TargetRoundTrips = 0 };
    }

    /// <summary>A responder's own horizon for the scope agreed in Open (it is known only then), raised to at least the
    /// constructor's horizon; null: the constructor's horizon alone.</summary>
    public Func<SyncScope, long>? HorizonOf { get; init; }

    /// <summary>The initiator's Open nonce, the fingerprint key (its 8 bytes little-endian); null: random, as a live
    /// session must be (spec/sync.md §3.3). A fixed nonce makes frames reproducible for golden tests.</summary>
    public ulong? Nonce { get; init; }

    /// <summary>The frame version this session speaks: <see cref="Version"/> (default), <see cref="VersionV3"/> or <see
    /// cref="VersionV2"/>, as negotiated by multistream (<see cref="VersionOf"/>); both sides must use the same.</summary>
    public byte ProtocolVersion
    {
        get => _version;
        init => _version = value is Version or VersionV3 or VersionV2 ? value : throw new ArgumentOutOfRangeException(nameof(ProtocolVersion));
    }
    readonly byte _version = Version;

    // Closing entries exist from version 3 on, the count-only Open from version 4.
    bool SpeaksClosing => _version >= VersionV3;
    bool SpeaksCounts => _version >= Version;

    /// <summary>Local items listed in our Closing entries (spec/sync.md §3.2 rule 7): push them all with <see
    /// cref="ReconciliationSession.ToSend"/>; the peer keeps those it lacks and drops the copies. Not in ToSend, which holds only
    /// what the peer is known to lack.</summary>
    public IReadOnlySet<SyncItem> Offered => _offered;

    /// <summary>Ranges we offered whole in Closing entries (spec/sync.md §3.2 rule 7), adjacent ones merged: the peer pushes
    /// what we lack there without listing it, at most <see cref="BlindRange.Count"/> (its count there), so accept pushes there by
    /// range. Their items are not in <see cref="ReconciliationSession.ToReceive"/>.</summary>
    public IReadOnlyList<BlindRange> OfferRanges => _offerRanges;

    /// <summary>The lower time bound both sides agreed on (max of the requested start and both horizons).</summary>
    public long AgreedStart { get; private set; }

    /// <summary>Ranges where we hold nothing and the peer pushes its items without listing them (Missing entries, spec/sync.md
    /// §3.2 rule 1), adjacent ones merged: their items are not in <see cref="ReconciliationSession.ToReceive"/>.</summary>
    public IReadOnlyList<BlindRange> BlindRanges => _blind;

    /// <summary>Items the peer announced in <see cref="BlindRanges"/> (their counts summed).</summary>
    public long BlindCount { get; private set; }

    /// <summary>Bytes this session wrote in entries of <paramref name="type"/> (frame headers not included).</summary>
    public long EntryBytesSent(EntryType type) => _entryBytes[(int)type];

    /// <summary>Entries of <paramref name="type"/> this session wrote (a Done entry counts once, whatever its run).</summary>
    public long EntriesSent(EntryType type) => _entryCounts[(int)type];

    void Account(EntryType type, int startLength, in FrameWriter w)
    {
        _entryBytes[(int)type] += w.Length - startLength;
        _entryCounts[(int)type]++;
    }

    // The frame plan (spec/sync.md §3.2) for the frame this side writes next, counting Open as 1; none once the density gate
    // dropped it (the plan's fine splits only pay where differences are dense).
    FramePlan Plan => new(_planDropped ? _unplanned! : _tuning, 2 * MessagesReceived + (_initiator ? 1 : 0));

    // Set at the first frame this side answers with NativeTuning.PlanMinDensity > 0 when that frame's density estimate is below
    // it, or at a later one when the peer's splits did not follow the plan; never reset.
    bool _planReviewed, _planDropped;

    // This side's tuning without the plan, for a session whose density gate dropped it (null: no gate).
    readonly NativeTuning? _unplanned;

    /// <summary>Whether this side's density gate dropped its frame plan (tests and the benchmark's trace).</summary>
    internal bool PlanDropped => _planDropped;

    /// <summary>How far the mean child of the peer's splits may exceed the plan's child limit for the frame it wrote and still
    /// count as planned (slices are equal in positions, not in items).</summary>
    const double PlannedChildSlack = 1.5;

    // The density gate (spec/sync.md §3.2, "the frame plan"), before answering a frame: true when it drops the plan now.
    bool ReviewPlan(in FanoutEstimator estimator, Survey survey, int frame)
    {
        if (_unplanned is null || _planDropped) return false;
        bool first = !_planReviewed;
        _planReviewed = true;
        // NaN (fewer than 8 differing nodes) is sparse too: a handful of differences costs a few bytes whatever the round trips.
        if (first && !(estimator.Density >= _tuning.PlanMinDensity)) return _planDropped = true;
        // A peer that answers without the plan (its own gate dropped it, or it has none) leaves nodes the plan's size-bound
        // splits would cut into hundreds of slices for nothing: follow it (the Open frame is never planned).
        long limit = new FramePlan(_tuning, frame - 1).ChildLimit;
        if (frame - 1 >= 2 && limit > 0 && survey.SplitChildren > 0 && survey.SplitChildItems > PlannedChildSlack * limit * survey.SplitChildren)
            return _planDropped = true;
        return false;
    }

    static UInt128 PositionOf(long timestamp) => SyncItem.At(timestamp).Position;

    public override byte[] Initiate()
    {
        if (!_initiator) throw new InvalidOperationException("a responder does not initiate");
        var source = _sources(_localScope);
        _local = new LocalSide(source);
        Span<byte> nonce = stackalloc byte[8];
        if (Nonce is { } fixedNonce) BinaryPrimitives.WriteUInt64LittleEndian(nonce, fixedNonce);
        else RandomNumberGenerator.Fill(nonce);
        _codec.Key(BinaryPrimitives.ReadUInt64LittleEndian(nonce), _tuning.FingerprintBytes);
        AgreedStart = Math.Max(_start, _horizon);
        var root = new OpenNode(PositionOf(AgreedStart), PositionOf(Math.Max(_end, AgreedStart)));
        var w = new FrameWriter(Limits.MaxFrameBytes);
        try
        {
            w.Byte(_version);
            w.Byte((byte)FrameKind.Open);
            w.Topics(_localScope.PubsubTopics);
            w.Topics(_localScope.ContentTopics);
            w.Varint((ulong)_start);
            w.Varint((ulong)_end);
            w.Varint((ulong)_horizon);
            w.Bytes(nonce);
            w.Byte((byte)_codec.Width);
            var fp = source.GetFingerprint(root.From, root.To);
            int at = w.Length;
            int m = OpenFanout(fp.Count, root, out var slices);
            if (m >= 2 && SpeaksCounts)
            {
                // A large root is cut at once (a round trip saved, and the responder's first frame has m samples to size its
                // splits from), but only counts travel per slice: at d = 0 the root's one fingerprint settles everything, and
                // where the root differs a slice's count is what sizes its split (spec/sync.md §3.2, "the count-only Open").
                WriteCounts(ref w, root, m, slices!, fp, _open);
                Account(EntryType.Counts, at, w);
            }
            else if (m >= 2)
            {
                // Before version 4 the root's first split carries a fingerprint per slice.
                WriteSplit(ref w, root, m, slices!, _open);
                Account(EntryType.Split, at, w);
            }
            else
            {
                w.Byte((byte)EntryType.Fingerprint);
                _codec.WriteFingerprint(ref w, fp);
                Account(EntryType.Fingerprint, at, w);
                _open.Add(root.Summarised(fp.Count));
            }
            _opened = true;
            return Sent(w.ToArray())!;
        }
        finally { w.Dispose(); }
    }

    // The Open frame's root is split when it holds at least LargeNode items (0: sent as one Fingerprint), into MinFanoutLarge
    // slices doubled while fewer than OpenSlices of them hold items: the responder sizes its first split from the count
    // differences of the slices that hold items, and a sync range whose items fill only part of it (a range reaching past the
    // newest message) would otherwise leave it half the samples (spec/sync.md §3.2, §3.5). Empty slices cost a byte each. Only
    // a version-4 Open doubles: its slices cost a count each (~3 bytes); a version 2/3 slice carries a fingerprint too (~9
    // bytes), and doubling there would take the Open of an agreeing 10^6-item store past 256 bytes. Slices: our children at the
    // fan-out returned (LocalSide's buffer, valid until its next Children call), for the Open's entry.
    int OpenFanout(long count, OpenNode root, out List<Fingerprint>? slices)
    {
        slices = null;
        if (count < _tuning.LargeNode) return 0;
        UInt128 span = root.Hi - root.Lo;
        int m = _tuning.MinFanoutLarge;
        if (span < (UInt128)m) return 0;
        int aim = SpeaksCounts ? _tuning.OpenSlices : 1;
        slices = _local!.Children(root, m);
        while (2 * m <= MaxOpenFanout && span >= (UInt128)(2 * m) && NonEmpty(slices) < aim)
        {
            m *= 2;
            slices = _local.Children(root, m);
        }
        // A Counts entry's node count is the sum of its slices': a source whose slices disagree with its root (none honest) would
        // send one of 0 items, which the peer refuses; the root's Fingerprint says the same without the cut.
        return SpeaksCounts && NonEmpty(slices) == 0 ? 0 : m;
    }

    static int NonEmpty(List<Fingerprint> slices)
    {
        int n = 0;
        foreach (var fp in slices) if (fp.Count > 0) n++;
        return n;
    }

    protected override byte[]? Process(ReadOnlySpan<byte> frame)
    {
        if (frame.Length > Limits.MaxFrameBytes) throw new SyncProtocolException("frame exceeds the limit");
        var r = new FrameReader(frame);
        if (r.Byte("version") != _version) throw new SyncProtocolException("unsupported native reconciliation version");
        var kind = (FrameKind)r.Byte("frame kind");
        var w = new FrameWriter(Limits.MaxFrameBytes);
        try
        {
            if (!_opened)
            {
                if (_initiator || kind != FrameKind.Open) throw new SyncProtocolException("a session starts with an Open frame");
                var reopened = ReadOpen(ref r, ref w);
                _opened = true;
                if (_local is null) { IsFinished = true; return w.ToArray(); } // disjoint topics: Accept with no entries
                if (reopened is { } root)
                {
                    // Our horizon moved the root's lower bound: the peer's entries describe another range. They are checked,
                    // then both sides continue with the one new root, answered by our Fingerprint of it.
                    SurveyEntries(frame[r.Position..], open: true);
                    Bounce(ref w, new Pending { Node = root, LocalCount = _local.Fingerprint(root).Count, LocalFp = _codec.Keyed(_local.Fingerprint(root)) }, _spareOpen);
                    _open.Clear();
                    (_open, _spareOpen) = (_spareOpen, _open);
                    return w.ToArray();
                }
            }
            else if (_initiator && MessagesReceived == 1)
            {
                if (kind != FrameKind.Accept) throw new SyncProtocolException("the responder answers with Accept");
                long agreed = (long)r.Varint("agreed start");
                if (agreed < AgreedStart || agreed > Math.Max(_end, AgreedStart)) throw new SyncProtocolException("agreed start outside the request");
                if (agreed != AgreedStart)
                {
                    // The responder's horizon moved the root: whatever Open opened is replaced by the new root alone.
                    _open.Clear();
                    _open.Add(new OpenNode(PositionOf(agreed), PositionOf(Math.Max(_end, agreed))));
                }
                AgreedStart = agreed;
                w.Byte(_version);
                w.Byte((byte)FrameKind.Step);
            }
            else
            {
                if (kind != FrameKind.Step) throw new SyncProtocolException($"unexpected frame kind {(byte)kind}");
                w.Byte(_version);
                w.Byte((byte)FrameKind.Step);
            }

            var entries = frame[r.Position..];
            var survey = SurveyEntries(entries, open: kind == FrameKind.Open);
            var next = AnswerEntries(entries, survey, ref w);
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

    // Reads the Open frame's header, writes the Accept header and opens the requested root; returns the new root when our
    // horizon moved its lower bound.
    OpenNode? ReadOpen(ref FrameReader r, ref FrameWriter w)
    {
        var pubsub = r.Topics("pubsub topic");
        var content = r.Topics("content topic");
        long start = (long)r.Varint("start"), end = (long)r.Varint("end"), horizon = (long)r.Varint("horizon");
        ulong key = BinaryPrimitives.ReadUInt64LittleEndian(r.Bytes(8, "nonce"));
        int fpBytes = r.Byte("fingerprint width");
        if (fpBytes is < MinFingerprintBytes or > 8) throw new SyncProtocolException($"fingerprint width {fpBytes}");
        _codec.Key(key, fpBytes);
        long requested = Math.Max(start, horizon);
        var scope = _localScope.Intersect(pubsub, content);
        AgreedStart = Math.Max(requested, scope is not null && HorizonOf is { } horizonOf ? Math.Max(_horizon, horizonOf(scope)) : _horizon);
        if (end < requested) throw new SyncProtocolException("empty or inverted sync range");
        AgreedStart = Math.Min(AgreedStart, end);
        w.Byte(_version);
        w.Byte((byte)FrameKind.Accept);
        w.Varint((ulong)AgreedStart);
        if (scope is null) return null;
        _local = new LocalSide(_sources(scope));
        _open.Add(new OpenNode(PositionOf(requested), PositionOf(end)));
        return AgreedStart != requested ? new OpenNode(PositionOf(AgreedStart), PositionOf(end)) : null;
    }

    // Pass 1: checks every entry against the open nodes and the limits (nothing is changed before the whole frame is
    // known to be valid) and computes our summary of every node the peer asks us to answer.
    Survey SurveyEntries(ReadOnlySpan<byte> entries, bool open)
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
                    var (count, fp) = _codec.ReadFingerprint(ref r);
                    var local = _local!.Fingerprint(node);
                    survey.Record(count, fp, local.Count, _codec.Keyed(local));
                    break;
                }
                case EntryType.Split:
                {
                    int m = EntryCodec.ReadFanout(ref r, node, survey.Tasks, Limits.MaxRangesPerMessage);
                    var fps = _local!.Children(node, m);
                    int nonEmpty = 0, agreed = 0;
                    long size = 0;
                    for (int i = 0; i < m; i++)
                    {
                        var (c, f) = _codec.ReadFingerprint(ref r);
                        survey.SplitChildItems += c;
                        bool agrees = survey.Record(c, f, fps[i].Count, _codec.Keyed(fps[i]));
                        if (c == 0 && fps[i].Count == 0) continue; // an empty slice says nothing about the density
                        nonEmpty++;
                        size += Math.Max(c, fps[i].Count);
                        if (agrees) agreed++;
                    }
                    survey.AddSiblings(nonEmpty, agreed, size);
                    survey.SplitChildren += m;
                    break;
                }
                case EntryType.Counts when SpeaksCounts:
                    if (!open) throw new SyncProtocolException("a Counts entry outside the Open frame");
                    SurveyCounts(ref r, node, survey);
                    break;
                case EntryType.Items:
                    EntryCodec.SkipItems(ref r, node, Limits.MaxItemsPerSet);
                    survey.RecordItems();
                    break;
                case EntryType.Extras:
                    EntryCodec.SkipItems(ref r, node, Limits.MaxItemsPerSet);
                    break;
                case EntryType.Closing when SpeaksClosing:
                    // Needs no answer: we compare now, so our side must be small enough to read whole (one O(log n) count).
                    EntryCodec.SkipItems(ref r, node, Limits.MaxItemsPerSet);
                    if (_local!.Fingerprint(node).Count > Limits.MaxItemsPerSet) throw new SyncProtocolException("Closing for a node too large to compare");
                    break;
                case EntryType.Missing:
                    // Only for a node where we said we hold nothing: otherwise our items there would never be compared.
                    // Checked against what we said, not what we hold now: items ingested since then are new to this session,
                    // and an honest peer that answered our empty summary did nothing wrong (the next session compares them).
                    // An honest peer sends Missing only for a node it could list (≤ MaxItemsPerSet items).
                    if (r.Varint("missing count") - 1 >= (ulong)Limits.MaxItemsPerSet) throw new SyncProtocolException("missing count out of range");
                    if (!node.SaidEmpty) throw new SyncProtocolException("Missing for a node we said we hold items in");
                    break;
                case EntryType.ItemsReply:
                    EntryCodec.SkipItems(ref r, node, Limits.MaxItemsPerSet);
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

    // Pass 2: the same entries again (already validated), now changing state and writing the answer.
    ChunkedList<OpenNode> AnswerEntries(ReadOnlySpan<byte> entries, Survey survey, ref FrameWriter w)
    {
        _pairSearchSpent = 0;
        var plan = Plan;
        var estimator = FanoutEstimator.Of(survey, _tuning, plan.PreClosing ? _tuning.ClosingSlicesPerDifference : _tuning.SlicesPerDifference);
        if (ReviewPlan(estimator, survey, plan.Frame))
        {
            plan = Plan;
            estimator = FanoutEstimator.Of(survey, _tuning, _tuning.SlicesPerDifference);
        }
        var next = _spareOpen;
        next.Clear();
        _spareListed.Clear(); // receives the items we list in this answer
        var r = new FrameReader(entries);
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
                    var (count, fp) = _codec.ReadFingerprint(ref r);
                    // Only the Open frame's root is a first look; any other Fingerprint entry hands back a node we answered.
                    var p = new Pending { Node = node, RemoteCount = count, RemoteFp = fp, Fresh = !_initiator && MessagesReceived == 1 };
                    AnswerNode(ref p, survey, task++, estimator, ref unsettled, ref doneRun, ref w, next);
                    break;
                }
                case EntryType.Split:
                {
                    int m = (int)r.Varint("fan-out");
                    var slices = new Slices(node, m);
                    for (int i = 0; i < m; i++)
                    {
                        var (c, f) = _codec.ReadFingerprint(ref r);
                        var p = new Pending { Node = slices[i], RemoteCount = c, RemoteFp = f, Fresh = true };
                        AnswerNode(ref p, survey, task++, estimator, ref unsettled, ref doneRun, ref w, next);
                    }
                    break;
                }
                case EntryType.Counts:
                {
                    int m = (int)r.Varint("fan-out");
                    _codec.ReadFp(ref r);
                    if (survey.CountsAgree)
                    {
                        // The root's fingerprint agrees: every slice is settled, whatever its count says.
                        for (int i = 0; i < m; i++) EntryCodec.ReadTally(ref r);
                        doneRun += m;
                        task += m;
                        break;
                    }
                    var slices = new Slices(node, m);
                    for (int i = 0; i < m; i++)
                    {
                        var (c, hint) = EntryCodec.ReadTally(ref r);
                        bool looks = EntryCodec.LooksAgreeing(c, hint, survey.Counts[task], survey.Fps[task]);
                        var p = new Pending { Node = slices[i], RemoteCount = c, Fresh = true, CountOnly = true, LooksAgreeing = looks };
                        AnswerNode(ref p, survey, task++, estimator, ref unsettled, ref doneRun, ref w, next);
                    }
                    break;
                }
                case EntryType.Items:
                {
                    task++;
                    var theirs = EntryCodec.ReadItems(ref r, node, Limits.MaxItemsPerSet, _received);
                    var lacking = new byte[(theirs.Count + 7) / 8];
                    bool lacks = Merge(node, theirs, lacking);
                    if (_extras.Count == 0 && !lacks) { doneRun++; break; }
                    FlushDone(ref w, ref doneRun);
                    int start = w.Length;
                    EntryCodec.WriteItems(ref w, EntryType.ItemsReply, node, _extras);
                    w.Bytes(lacking);
                    Account(EntryType.ItemsReply, start, w);
                    break;
                }
                case EntryType.Missing:
                    AddBlind(node, (long)r.Varint("missing count"));
                    break;
                case EntryType.Closing:
                {
                    // The peer's whole list, and it pushes all of it: what we lack is announced, what it lacks we push.
                    var theirs = EntryCodec.ReadItems(ref r, node, Limits.MaxItemsPerSet, _received);
                    Merge(node, theirs, new byte[(theirs.Count + 7) / 8]);
                    break;
                }
                case EntryType.Extras:
                case EntryType.ItemsReply:
                    // One store read per announced item: do we already hold it?
                    foreach (var item in EntryCodec.ReadItems(ref r, node, Limits.MaxItemsPerSet, _received))
                        if (!_local!.Holds(item)) WeNeed(item);
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
}
