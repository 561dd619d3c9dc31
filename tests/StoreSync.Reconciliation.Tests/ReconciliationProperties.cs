using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Reconciliation.Native;
using StoreSync.Reconciliation.Nwaku;

namespace StoreSync.Reconciliation.Tests;

/// <summary>
/// Both protocols against the model "each side ends with the union, and the session reports exactly the symmetric
/// difference": random pairs and the explicit edge cases, in both modes.
/// </summary>
/// <remarks>
/// What each mode guarantees (spec/sync.md §2.1, §3): both modes report every side's ToSend exactly, so applying the pushes
/// gives both the union. A range where a side holds nothing is pushed to it without a list in both modes: its ToReceive is
/// exactly the peer's extras outside its blind ranges (<see cref="NwakuReconciliation.BlindRanges"/>,
/// <see cref="NativeReconciliation.BlindRanges"/>), and the extras inside them are in the peer's ToSend. Native mode also tells
/// how many come there (<see cref="NativeReconciliation.BlindCount"/>) and never calls a range blind where the side holds items.
/// </remarks>
public class ReconciliationProperties
{
    const long T0 = TestItems.T0;
    const long Hour = 3_600_000_000_000;

    public enum Mode { Native, Nwaku }

    /// <summary>A frame plan short enough that small random pairs reach its closing frame, with the pair search on.</summary>
    static readonly NativeTuning Planned = NativeTuning.Unplanned with { TargetRoundTrips = 2, PairSearch = true, LargeNode = 16, ClosingListLimit = 8, PlanLeafItems = 2 };

    static (ReconciliationSession A, ReconciliationSession B) Run(Mode mode, IEnumerable<SyncItem> a, IEnumerable<SyncItem> b, long start, long end,
        NativeTuning? tuning = null)
    {
        var sa = new MemorySyncItemSource(a);
        var sb = new MemorySyncItemSource(b);
        ReconciliationSession ia, rb;
        if (mode == Mode.Native)
        {
            ia = new NativeReconciliation(SyncScope.All, _ => sa, start, end, long.MinValue, null, tuning);
            rb = new NativeReconciliation(SyncScope.All, _ => sb, 0, 0, long.MinValue, null, tuning);
        }
        else
        {
            ia = new NwakuReconciliation(SyncScope.All, _ => sa, start, end);
            rb = new NwakuReconciliation(SyncScope.All, _ => sb);
        }
        TestItems.Drive(ia, rb);
        Assert.True(ia.IsFinished && rb.IsFinished, "both sides must see the session end");
        return (ia, rb);
    }

    /// <summary>The whole contract for one pair, in the mode's own terms.</summary>
    static void AssertContract(Mode mode, IEnumerable<SyncItem> a, IEnumerable<SyncItem> b, long start, long end, NativeTuning? tuning = null)
    {
        var (sa, sb) = Run(mode, a, b, start, end, tuning);
        var setA = a.Where(x => x.Timestamp >= start && x.Timestamp < end).ToHashSet();
        var setB = b.Where(x => x.Timestamp >= start && x.Timestamp < end).ToHashSet();
        var aOnly = setA.Except(setB).ToHashSet();
        var bOnly = setB.Except(setA).ToHashSet();
        TestItems.AssertPushes(sa, aOnly, setA, "A");
        TestItems.AssertPushes(sb, bOnly, setB, "B");
        if (mode == Mode.Native)
        {
            TestItems.AssertKnows((NativeReconciliation)sa, bOnly, setA, "A");
            TestItems.AssertKnows((NativeReconciliation)sb, aOnly, setB, "B");
        }
        else
        {
            AssertAnnounced((NwakuReconciliation)sa, bOnly);
            AssertAnnounced((NwakuReconciliation)sb, aOnly);
        }
        // Applying the pushes: each side ends with exactly the union.
        var union = setA.Union(setB).ToHashSet();
        Assert.True(setA.Union(TestItems.Pushes(sb)).ToHashSet().SetEquals(union), "A does not end with the union");
        Assert.True(setB.Union(TestItems.Pushes(sa)).ToHashSet().SetEquals(union), "B does not end with the union");
    }

    // nwaku mode: what a side is told it will receive is exactly the peer's extras outside its blind ranges.
    static void AssertAnnounced(NwakuReconciliation side, HashSet<SyncItem> peerExtras)
    {
        bool Blind(SyncItem x) => side.BlindRanges.Any(r => x >= r.From && x < r.To);
        var expected = peerExtras.Where(x => !Blind(x)).ToHashSet();
        Assert.True(side.ToReceive.SetEquals(expected), $"announced: expected {expected.Count} of {peerExtras.Count}, got {side.ToReceive.Count}");
    }

    [Property(MaxTest = 50)]
    public Property Native_random_pairs_meet_the_contract() =>
        Prop.ForAll(TestItems.Pairs(), pair => AssertContract(Mode.Native, pair.A, pair.B, T0, T0 + pair.Span));

    [Property(MaxTest = 50)]
    public Property Native_random_pairs_meet_the_contract_under_a_frame_plan_with_the_pair_search() =>
        Prop.ForAll(TestItems.Pairs(), pair => AssertContract(Mode.Native, pair.A, pair.B, T0, T0 + pair.Span, Planned));

    [Property(MaxTest = 50)]
    public Property Native_gap_pairs_meet_the_contract_under_a_frame_plan_with_the_pair_search() =>
        Prop.ForAll(TestItems.GapPairs(), pair => AssertContract(Mode.Native, pair.A, pair.B, T0, T0 + pair.Span, Planned));

    [Property(MaxTest = 50)]
    public Property Nwaku_random_pairs_meet_the_contract() =>
        Prop.ForAll(TestItems.Pairs(), pair => AssertContract(Mode.Nwaku, pair.A, pair.B, T0, T0 + pair.Span));

    [Property(MaxTest = 50)]
    public Property Native_pairs_where_one_side_lacks_a_whole_range_meet_the_contract() =>
        Prop.ForAll(TestItems.GapPairs(), pair => AssertContract(Mode.Native, pair.A, pair.B, T0, T0 + pair.Span));

    [Property(MaxTest = 50)]
    public Property Nwaku_pairs_where_one_side_lacks_a_whole_range_meet_the_contract() =>
        Prop.ForAll(TestItems.GapPairs(), pair => AssertContract(Mode.Nwaku, pair.A, pair.B, T0, T0 + pair.Span));

    static List<SyncItem> Items(int seed, int count, long lo, long hi)
    {
        var rng = new Random(seed);
        var set = new HashSet<SyncItem>();
        while (set.Count < count) set.Add(TestItems.RandomItem(rng, lo, hi));
        return [.. set];
    }

    static List<SyncItem> SameTimestamp(int seed, int count, long t)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => new SyncItem(t, TestItems.RandomHash(rng))).Distinct().ToList();
    }

    /// <summary>The explicit cases: name, A, B and the sync range.</summary>
    public static TheoryData<Mode, string> Cases()
    {
        var data = new TheoryData<Mode, string>();
        foreach (var mode in Enum.GetValues<Mode>())
            foreach (var name in CaseNames) data.Add(mode, name);
        return data;
    }

    static readonly string[] CaseNames =
    [
        "both empty", "one side empty", "identical", "disjoint", "one item only", "one item differs on each side",
        "one extra item among many", "equal timestamps", "equal timestamps and first hash words", "minimum and maximum timestamps",
        "items on the range bounds", "one side lacks the newest part", "one side lacks a middle part and differs elsewhere",
    ];

    static (List<SyncItem> A, List<SyncItem> B, long Start, long End) Case(string name)
    {
        var many = Items(1, 3000, T0, T0 + Hour);
        switch (name)
        {
            case "both empty": return ([], [], T0, T0 + Hour);
            case "one side empty": return (many, [], T0, T0 + Hour);
            case "identical": return (many, [.. many], T0, T0 + Hour);
            case "disjoint": return (many.Take(1200).ToList(), many.Skip(1200).ToList(), T0, T0 + Hour);
            case "one item only": return ([], many.Take(1).ToList(), T0, T0 + Hour);
            case "one item differs on each side": return (many.Skip(1).ToList(), many.SkipLast(1).ToList(), T0, T0 + Hour);
            case "one extra item among many": return (many, many.Skip(1).ToList(), T0, T0 + Hour);
            case "equal timestamps":
            {
                var same = SameTimestamp(2, 700, T0 + 5);
                return (same.Take(600).ToList(), same.Skip(100).ToList(), T0, T0 + Hour);
            }
            case "equal timestamps and first hash words":
            {
                var rng = new Random(3);
                var same = Enumerable.Range(0, 500).Select(_ => new SyncItem(T0, new MessageHash(42, (ulong)rng.NextInt64(), 7, 7))).Distinct().ToList();
                return (same.Take(450).ToList(), same.Skip(50).ToList(), T0, T0 + 1);
            }
            case "minimum and maximum timestamps":
            {
                // long.MaxValue itself is the exclusive end of every range (SyncItem.MaxValue is reserved), so the largest
                // reconcilable timestamp is long.MaxValue − 1; the message validator accepts neither extreme anyway.
                var rng = new Random(4);
                SyncItem At(long t) => new(t, TestItems.RandomHash(rng));
                var shared = new List<SyncItem> { At(long.MinValue), At(long.MaxValue - 1), At(0), At(-1) };
                var a = shared.Concat([At(long.MinValue), At(long.MinValue + 1), At(long.MaxValue - 1)]).ToList();
                var b = shared.Concat([At(long.MaxValue - 1), At(long.MaxValue - 2), At(long.MinValue)]).ToList();
                return (a, b, long.MinValue, long.MaxValue);
            }
            case "items on the range bounds":
            {
                // Items at start belong to the range, items at end do not.
                var rng = new Random(5);
                SyncItem At(long t) => new(t, TestItems.RandomHash(rng));
                var a = new List<SyncItem> { At(T0), At(T0 + Hour), At(T0 + Hour - 1), At(T0 - 1) };
                var b = new List<SyncItem> { At(T0), At(T0 + Hour), At(T0 + 1) };
                return (a, b, T0, T0 + Hour);
            }
            case "one side lacks the newest part": return (many, many.Where(x => x.Timestamp < T0 + Hour * 9 / 10).ToList(), T0, T0 + Hour);
            case "one side lacks a middle part and differs elsewhere":
            {
                bool Middle(SyncItem x) => x.Timestamp >= T0 + Hour / 3 && x.Timestamp < T0 + Hour / 2;
                var extra = Items(8, 40, T0, T0 + Hour);
                return (many.Where((_, i) => i % 97 != 0).Concat(extra.Where(x => !Middle(x)).Take(20)).ToList(),
                        many.Where(x => !Middle(x)).Concat(extra.Skip(20)).ToList(), T0, T0 + Hour);
            }
            default: throw new ArgumentException(name);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Explicit_cases_meet_the_contract(Mode mode, string name)
    {
        var (a, b, start, end) = Case(name);
        AssertContract(mode, a, b, start, end);
    }

    [Theory]
    [InlineData(Mode.Native)]
    [InlineData(Mode.Nwaku)]
    public void A_hundred_thousand_items_meet_the_contract(Mode mode)
    {
        var rng = new Random(6);
        var (a, b) = TestItems.Pair(rng, 100_000, 60, 40, r => TestItems.RandomItem(r, T0, T0 + 24 * Hour));
        AssertContract(mode, a, b, T0, T0 + 24 * Hour);
    }

    [Fact]
    public void Native_mode_costs_a_few_bytes_for_a_range_one_side_lacks_entirely()
    {
        // B lacks A's newest 2,000 of 50,000 items: A says "Missing, k items" for the ranges B holds nothing of instead of
        // listing 2,000 × ~37 bytes; B learns the ranges and the count, and A pushes them all.
        var rng = new Random(10);
        var a = Enumerable.Range(0, 50_000).Select(_ => TestItems.RandomItem(rng, T0, T0 + Hour)).Distinct().Order().ToList();
        var b = a.Take(a.Count - 2000).ToList();
        var (sa, sb) = Run(Mode.Native, a, b, T0, T0 + Hour);
        var nb = (NativeReconciliation)sb;
        Assert.Equal(2000, sa.ToSend.Count);
        // Only the node on the range's edge, where B holds some items, is resolved item by item.
        Assert.True(sb.ToReceive.Count < 50, $"{sb.ToReceive.Count} listed");
        Assert.Equal(2000, nb.BlindCount + sb.ToReceive.Count);
        Assert.True(sa.BytesSent + sb.BytesSent <= 2048, $"{sa.BytesSent} + {sb.BytesSent} bytes");
        AssertContract(Mode.Native, a, b, T0, T0 + Hour);
    }

    [Fact]
    public void Nwaku_mode_tells_a_side_nothing_about_ranges_where_it_holds_nothing()
    {
        // B holds nothing in the second half hour: nwaku's rule hands that range to A as "push everything" without a list.
        var many = Items(7, 4000, T0, T0 + Hour);
        var a = many;
        var b = many.Where(x => x.Timestamp < T0 + Hour / 2).ToList();
        var (sa, sb) = Run(Mode.Nwaku, a, b, T0, T0 + Hour);
        var nb = (NwakuReconciliation)sb;
        Assert.NotEmpty(nb.BlindRanges);
        Assert.Equal(a.Count - b.Count, sa.ToSend.Count);
        Assert.True(sb.ToReceive.Count < sa.ToSend.Count);
        AssertContract(Mode.Nwaku, a, b, T0, T0 + Hour);
    }
}
