using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StoreSync.Reconciliation.Native;

namespace StoreSync.Reconciliation.Tests.Native;

/// <summary>The Closing entry of version 3 (spec/sync.md §3.2 rule 7): the answer to the closing frame offers a node's whole list
/// instead of listing it for an answer, so the session ends with that frame; both sides still end with the union.</summary>
public class ClosingEntryTests
{
    const long T0 = TestItems.T0;
    const long Hour = 3_600_000_000_000;

    /// <summary>A two-round-trip plan small random pairs reach the end of, answering the closing frame with Closing entries.</summary>
    static readonly NativeTuning Closing = NativeTuning.Unplanned with
    {
        TargetRoundTrips = 2, PairSearch = true, LargeNode = 16, ClosingListLimit = 8, PlanLeafItems = 2, ClosingOfferLimit = 64,
    };

    /// <summary>A one-round-trip plan: every frame after Open answers the closing frame, so every small node is offered whole.</summary>
    static readonly NativeTuning Eager = Closing with { TargetRoundTrips = 1 };

    static (NativeReconciliation A, NativeReconciliation B, int Frames) Run(IEnumerable<SyncItem> a, IEnumerable<SyncItem> b, long end,
        NativeTuning tuning, byte version = NativeReconciliation.Version)
    {
        var sa = new MemorySyncItemSource(a);
        var sb = new MemorySyncItemSource(b);
        var ia = new NativeReconciliation(SyncScope.All, _ => sa, T0, end, long.MinValue, null, tuning) { ProtocolVersion = version };
        var rb = new NativeReconciliation(SyncScope.All, _ => sb, 0, 0, long.MinValue, null, tuning) { ProtocolVersion = version };
        int frames = TestItems.Drive(ia, rb);
        Assert.True(ia.IsFinished && rb.IsFinished, "both sides must see the session end");
        return (ia, rb, frames);
    }

    static void AssertUnion(TestItems.PairCase pair, NativeReconciliation a, NativeReconciliation b) =>
        TestItems.AssertReconciled(pair.A, pair.B, a, b, T0, T0 + pair.Span);

    static Property EndsWithTheUnion(Arbitrary<TestItems.PairCase> pairs, NativeTuning tuning) =>
        Prop.ForAll(pairs, pair =>
        {
            var (a, b, _) = Run(pair.A, pair.B, T0 + pair.Span, tuning);
            AssertUnion(pair, a, b);
        });

    [Property(MaxTest = 100)]
    public Property Random_pairs_end_with_the_union_under_closing_entries() => EndsWithTheUnion(TestItems.Pairs(), Closing);

    [Property(MaxTest = 100)]
    public Property Gap_pairs_end_with_the_union_under_closing_entries() => EndsWithTheUnion(TestItems.GapPairs(), Closing);

    [Property(MaxTest = 100)]
    public Property Random_pairs_end_with_the_union_when_every_answer_may_close() => EndsWithTheUnion(TestItems.Pairs(), Eager);

    [Property(MaxTest = 100)]
    public Property Gap_pairs_end_with_the_union_when_every_answer_may_close() => EndsWithTheUnion(TestItems.GapPairs(), Eager);

    [Property(MaxTest = 50)]
    public Property Version_2_sessions_send_no_closing_entry_and_still_end_with_the_union() =>
        Prop.ForAll(TestItems.Pairs(), pair =>
        {
            var (a, b, _) = Run(pair.A, pair.B, T0 + pair.Span, Closing, NativeReconciliation.VersionV2);
            Assert.Equal(0, a.EntriesSent(EntryType.Closing) + b.EntriesSent(EntryType.Closing));
            Assert.Empty(a.Offered);
            Assert.Empty(b.Offered);
            AssertUnion(pair, a, b);
        });

    [Fact]
    public void Closing_entries_are_used_and_save_frames_against_version_2()
    {
        // The same pairs and policy in both versions: sessions are identical up to the answer to the closing frame, where
        // version 3 closes the nodes version 2 would list for another answer.
        int withClosing = 0, frames3 = 0, frames2 = 0, copies = 0;
        for (int seed = 1; seed <= 60; seed++)
        {
            var rng = new Random(seed);
            var (a, b) = TestItems.Pair(rng, 2000 + seed * 37, 40 + seed % 23, 30 + seed % 17, r => TestItems.RandomItem(r, T0, T0 + Hour));
            var tuning = seed % 2 == 0 ? Closing : Eager;
            var (a3, b3, f3) = Run(a, b, T0 + Hour, tuning, NativeReconciliation.VersionV3);
            var (a2, b2, f2) = Run(a, b, T0 + Hour, tuning, NativeReconciliation.VersionV2);
            TestItems.AssertReconciled(a, b, a3, b3);
            TestItems.AssertReconciled(a, b, a2, b2);
            if (a3.EntriesSent(EntryType.Closing) + b3.EntriesSent(EntryType.Closing) > 0) withClosing++;
            Assert.True(a3.Offered.Count + b3.Offered.Count <= (a3.EntriesSent(EntryType.Closing) + b3.EntriesSent(EntryType.Closing)) * Closing.ClosingOfferLimit);
            copies += a3.Offered.Count + b3.Offered.Count;
            frames3 += f3;
            frames2 += f2;
        }
        Assert.True(withClosing >= 20, $"only {withClosing} of 60 sessions used a Closing entry");
        Assert.True(frames3 < frames2, $"version 3 took {frames3} frames, version 2 {frames2}");
        Assert.True(copies > 0);
    }

    // b holds 5,000 items in 16 open nodes after a's Open (its root as one Fingerprint) and b's Split.
    static NativeReconciliation Opened(SyncLimits? limits = null, byte version = NativeReconciliation.Version)
    {
        var rng = new Random(9);
        var items = Enumerable.Range(0, 5000).Select(_ => TestItems.RandomItem(rng, T0, T0 + Hour)).ToList();
        var a = new NativeReconciliation(SyncScope.All, _ => new MemorySyncItemSource(items.Take(4000)), T0, T0 + Hour, long.MinValue, null,
            new NativeTuning { LargeNode = 1 << 20 }) { ProtocolVersion = version };
        var b = new NativeReconciliation(SyncScope.All, _ => new MemorySyncItemSource(items.Skip(1000)), 0, 0, long.MinValue, limits, null)
        { ProtocolVersion = version };
        b.Receive(a.Initiate());
        Assert.False(b.IsFinished);
        return b;
    }

    [Fact]
    public void A_version_2_session_refuses_a_closing_entry()
    {
        var b = Opened(version: NativeReconciliation.VersionV2);
        var error = Assert.Throws<SyncProtocolException>(() => b.Receive([2, 2, 7, 0]));
        Assert.Contains("entry type 7", error.Message);
        Assert.True(b.IsFinished);
    }

    [Fact]
    public void A_closing_entry_for_a_node_too_large_to_compare_is_refused_after_one_count()
    {
        // "I hold nothing here, push me yours" over a node where we hold ~250 items, with lists limited to 100: we would have to
        // read and push them all unasked, so the frame is refused before anything is read or changed.
        var b = Opened(new SyncLimits { MaxItemsPerSet = 100 });
        var error = Assert.Throws<SyncProtocolException>(() => b.Receive([NativeReconciliation.Version, 2, 7, 0, 0, 15]));
        Assert.Contains("too large to compare", error.Message);
        Assert.Empty(b.ToSend);
        Assert.Empty(b.Offered);
    }

    [Fact]
    public void A_closing_entry_settles_the_node_without_an_answer()
    {
        // Closing(0) for the first node ("push me all yours") and Done for the other 15: nothing is left to answer, so the
        // session ends without a reply and every item we hold in the first node is to be pushed.
        var b = Opened();
        var reply = b.Receive([NativeReconciliation.Version, 2, 7, 0, 0, 15]);
        Assert.Null(reply);
        Assert.True(b.IsFinished);
        Assert.NotEmpty(b.ToSend);
        Assert.Empty(b.ToReceive);
    }

    [Property(MaxTest = 200)]
    public Property Garbled_closing_entries_are_a_clean_error_or_a_settled_node(byte[] tail)
    {
        // A Closing entry for the first node with random bytes after it: either refused with a SyncProtocolException (the
        // session then over) or, if the bytes happen to parse, accepted; never another exception, and bounded by the frame.
        var b = Opened(new SyncLimits { MaxItemsPerSet = 1000 });
        byte[] frame = [NativeReconciliation.Version, 2, 7, .. tail ?? []];
        try { b.Receive(frame); }
        catch (SyncProtocolException) { Assert.True(b.IsFinished); }
        return true.ToProperty();
    }
}
