using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StoreSync.Reconciliation.Native;

namespace StoreSync.Reconciliation.Tests.Native;

/// <summary>The frame plan's density gate (<see cref="NativeTuning.PlanMinDensity"/>, spec/sync.md §3.2 "the frame plan"): at the
/// first frame a side answers it keeps the plan only where that frame's density estimate reaches the gate; either way, and whatever
/// the two sides decide, both end with the union, and a session both sides answered without the plan is the unplanned session.</summary>
public class PlanDensityGateTests
{
    const long T0 = TestItems.T0;
    const long Hour = 3_600_000_000_000;

    /// <summary>A short plan small random pairs reach the end of, gated at a density random pairs fall on both sides of.</summary>
    static readonly NativeTuning Gated = NativeTuning.Unplanned with
    {
        TargetRoundTrips = 2, PairSearch = true, LargeNode = 16, ClosingListLimit = 8, PlanLeafItems = 2, PlanMinDensity = 0.05,
    };

    static (NativeReconciliation A, NativeReconciliation B, List<byte[]> Frames) Run(IEnumerable<SyncItem> a, IEnumerable<SyncItem> b,
        long end, NativeTuning tuning)
    {
        var sa = new MemorySyncItemSource(a);
        var sb = new MemorySyncItemSource(b);
        var ia = new NativeReconciliation(SyncScope.All, _ => sa, T0, end, long.MinValue, null, tuning) { Nonce = 7 };
        var rb = new NativeReconciliation(SyncScope.All, _ => sb, 0, 0, long.MinValue, null, tuning);
        var frames = new List<byte[]>();
        byte[]? frame = ia.Initiate();
        ReconciliationSession to = rb, from = ia;
        while (frame is not null)
        {
            frames.Add(frame);
            frame = to.Receive(frame);
            (to, from) = (from, to);
        }
        Assert.True(ia.IsFinished && rb.IsFinished, "both sides must see the session end");
        return (ia, rb, frames);
    }

    static Property GatedSessionsEndWithTheUnion(Arbitrary<TestItems.PairCase> pairs) =>
        Prop.ForAll(pairs, pair =>
        {
            var (a, b, frames) = Run(pair.A, pair.B, T0 + pair.Span, Gated);
            TestItems.AssertReconciled(pair.A, pair.B, a, b, T0, T0 + pair.Span);
            if (a.PlanDropped && b.PlanDropped)
            {
                // Both answered without the plan: the bytes are exactly those of the unplanned policy.
                var (_, _, unplanned) = Run(pair.A, pair.B, T0 + pair.Span, Gated with { TargetRoundTrips = 0 });
                Assert.Equal(unplanned.Count, frames.Count);
                for (int i = 0; i < frames.Count; i++) Assert.Equal(unplanned[i], frames[i]);
            }
        });

    [Property(MaxTest = 100)]
    public Property Random_pairs_end_with_the_union_under_a_density_gated_plan() => GatedSessionsEndWithTheUnion(TestItems.Pairs());

    [Property(MaxTest = 100)]
    public Property Gap_pairs_end_with_the_union_under_a_density_gated_plan() => GatedSessionsEndWithTheUnion(TestItems.GapPairs());

    [Fact]
    public void The_gate_keeps_the_plan_where_differences_are_dense_and_drops_it_where_they_are_sparse()
    {
        // ThreeRoundTrips is gated at 0.05 %: 20,000 items with 4 differences is far below it, with 800 (4 %) far above.
        foreach (var (onlyEach, dense) in new[] { (2, false), (400, true) })
        {
            var (a, b) = TestItems.Pair(new Random(17), 20_000, onlyEach, onlyEach, r => TestItems.RandomItem(r, T0, T0 + Hour));
            var (ia, rb, _) = Run(a, b, T0 + Hour, NativeTuning.ThreeRoundTrips);
            Assert.Equal(!dense, rb.PlanDropped);
            Assert.Equal(!dense, ia.PlanDropped);
            TestItems.AssertReconciled(a, b, ia, rb);
        }
    }
}
