namespace StoreSync.Reconciliation.Nwaku;

/// <summary>A session of /vac/waku/reconciliation/1.0.0 behaving as nwaku ≥ 0.37 does, initiator or responder.</summary>
/// <remarks>
/// Fingerprint = XOR of hashes; a differing range with more than <see cref="ItemSetThreshold"/> items is cut
/// into <see cref="PartitionCount"/> equal time slices; smaller ones travel as item sets. Work per frame is
/// bounded by the frame's ranges (each costs O(log n) plus at most 8 × 100 items) and the session by
/// <see cref="SyncLimits.MaxRounds"/>; see spec/sync.md §2.5.
/// </remarks>
public sealed class NwakuReconciliation : ReconciliationSession
{
    public const string ProtocolId = "/vac/waku/reconciliation/1.0.0";
    public const int PartitionCount = 8;
    public const int ItemSetThreshold = 100;

    readonly SyncScope _localScope;
    readonly Func<SyncScope, ISyncItemSource> _sources;
    readonly long _start, _end;
    SyncScope? _scope;
    ISyncItemSource? _source;
    readonly List<(SyncItem From, SyncItem To)> _blind = [];

    /// <param name="localScope">Our topics (sent in every frame and intersected with the peer's).</param>
    /// <param name="sources">Opens the item source of a scope (the storage layer keeps one per scope).</param>
    /// <param name="start">Initiator only: inclusive lower time bound of the sync range (ns).</param>
    /// <param name="end">Initiator only: exclusive upper time bound (ns).</param>
    public NwakuReconciliation(SyncScope localScope, Func<SyncScope, ISyncItemSource> sources, long start = 0, long end = 0, SyncLimits? limits = null)
        : base(limits)
    {
        _localScope = localScope;
        _sources = sources;
        _start = start;
        _end = end;
    }

    /// <summary>Ranges this side answered with an empty reconciled item set because it holds nothing there.</summary>
    /// <remarks>
    /// nwaku's rule: the peer learns from that answer that it must push all its items of the range, and answers Skip, so
    /// this side is never told which items will come. <see cref="ReconciliationSession.ToReceive"/> is therefore exactly
    /// the peer's extras outside these ranges; the peer's extras inside them arrive unannounced (they are in the peer's
    /// <see cref="ReconciliationSession.ToSend"/>). spec/sync.md §2.1.
    /// </remarks>
    public IReadOnlyList<(SyncItem From, SyncItem To)> BlindRanges => _blind;

    ISyncItemSource SourceFor(SyncScope scope)
    {
        if (_source is null || !scope.Equals(_scope)) { _scope = scope; _source = _sources(scope); }
        return _source;
    }

    public override byte[] Initiate()
    {
        if (_end <= _start) throw new InvalidOperationException("the sync range [start, end) is empty");
        var lower = SyncItem.At(_start);
        var upper = SyncItem.At(_end);
        var fp = SourceFor(_localScope).GetFingerprint(lower, upper);
        var payload = new RangesData
        {
            PubsubTopics = _localScope.PubsubTopics,
            ContentTopics = _localScope.ContentTopics,
            Ranges = [new SyncRange(lower, upper, RangeType.Fingerprint, fp.Xor)],
        };
        return Sent(payload.Encode(Limits.MaxFrameBytes))!;
    }

    protected override byte[]? Process(ReadOnlySpan<byte> frame)
    {
        var received = RangesData.Decode(frame, Limits);
        if (received.IsDone) { IsFinished = true; return null; }
        var scope = _localScope.Intersect(received.PubsubTopics, received.ContentTopics);
        if (scope is null) { IsFinished = true; return []; } // nwaku answers disjoint topics with an empty frame
        var source = SourceFor(scope);
        var output = new List<SyncRange>(received.Ranges.Count);
        var local = new List<SyncItem>();
        SyncItem? previousUpper = null;
        foreach (var range in received.Ranges)
        {
            if (range.Upper < range.Lower || (previousUpper is { } p && range.Lower < SyncItem.At(p.Timestamp)))
                throw new SyncProtocolException("ranges must ascend");
            previousUpper = range.Upper;
            switch (range.Type)
            {
                case RangeType.Skip:
                    output.Add(range);
                    break;
                case RangeType.Fingerprint:
                    ProcessFingerprint(source, range, output, local);
                    break;
                case RangeType.ItemSet:
                    ProcessItemSet(source, range, output, local);
                    break;
            }
        }
        var reply = new RangesData { PubsubTopics = _localScope.PubsubTopics, ContentTopics = _localScope.ContentTopics, Ranges = MergeSkips(output) };
        if (reply.IsEmpty) IsFinished = true;
        return reply.Encode(Limits.MaxFrameBytes);
    }

    void ProcessFingerprint(ISyncItemSource source, SyncRange range, List<SyncRange> output, List<SyncItem> local)
    {
        var fp = source.GetFingerprint(range.Lower, range.Upper);
        if (fp.Xor == range.Fingerprint) { output.Add(SyncRange.Skip(range.Lower, range.Upper)); return; }
        long span = unchecked(range.Upper.Timestamp - range.Lower.Timestamp);
        // nwaku drops a range it cannot cut (span < 8 ns), which loses it; we send its items instead.
        if (fp.Count <= ItemSetThreshold || (ulong)span < PartitionCount)
        {
            output.Add(ItemSetOf(source, range.Lower, range.Upper, fp.Count, local));
            return;
        }
        ulong part = (ulong)span / PartitionCount, rest = (ulong)span % PartitionCount;
        long lower = range.Lower.Timestamp;
        for (int i = 0; i < PartitionCount; i++)
        {
            long upper = unchecked(lower + (long)part + (i < (int)rest ? 1 : 0));
            var a = SyncItem.At(lower);
            var b = SyncItem.At(upper);
            var sub = source.GetFingerprint(a, b);
            output.Add(sub.Count <= ItemSetThreshold
                ? ItemSetOf(source, a, b, sub.Count, local)
                : new SyncRange(a, b, RangeType.Fingerprint, sub.Xor));
            lower = upper;
        }
    }

    SyncRange ItemSetOf(ISyncItemSource source, SyncItem lower, SyncItem upper, long count, List<SyncItem> scratch)
    {
        if (count == 0)
        {
            _blind.Add((lower, upper));
            return new SyncRange(lower, upper, RangeType.ItemSet, default, ItemSet.EmptyReconciled);
        }
        if (count > Limits.MaxItemsPerSet) throw new SyncProtocolException($"a range of {count} items cannot be split further");
        scratch.Clear();
        source.ReadAll(lower, upper, scratch);
        return new SyncRange(lower, upper, RangeType.ItemSet, default, new ItemSet(scratch.ToArray(), false));
    }

    void ProcessItemSet(ISyncItemSource source, SyncRange range, List<SyncRange> output, List<SyncItem> local)
    {
        var theirs = range.Items!.Elements;
        for (int k = 0; k < theirs.Count; k++)
        {
            if (theirs[k] < range.Lower || theirs[k] >= range.Upper || (k > 0 && theirs[k - 1] >= theirs[k]))
                throw new SyncProtocolException("item set elements must ascend inside their range");
        }
        local.Clear();
        if (!source.ReadAll(range.Lower, range.Upper, local, Limits.MaxItemsPerSet))
            throw new SyncProtocolException("item set range holds too many local items");
        int i = 0, j = 0;
        while (i < theirs.Count || j < local.Count)
        {
            int c = i == theirs.Count ? 1 : j == local.Count ? -1 : theirs[i].CompareTo(local[j]);
            if (c < 0) WeNeed(theirs[i++]);
            else if (c > 0) NeedsFromUs(local[j++]);
            else { i++; j++; }
        }
        output.Add(range.Items.Reconciled
            ? SyncRange.Skip(range.Lower, range.Upper)
            : new SyncRange(range.Lower, range.Upper, RangeType.ItemSet, default, new ItemSet(local.ToArray(), true)));
    }

    // nwaku merges consecutive Skip ranges and sends no ranges at all when everything is skipped.
    static List<SyncRange> MergeSkips(List<SyncRange> ranges)
    {
        var merged = new List<SyncRange>(ranges.Count);
        foreach (var r in ranges)
        {
            if (r.Type == RangeType.Skip && merged.Count > 0 && merged[^1].Type == RangeType.Skip)
                merged[^1] = SyncRange.Skip(merged[^1].Lower, r.Upper);
            else merged.Add(r);
        }
        return merged.All(r => r.Type == RangeType.Skip) ? [] : merged;
    }
}
