using StoreSync.Core;
using StoreSync.Core.Wire;
using StoreSync.Reconciliation.Native;

namespace StoreSync.Reconciliation.Tests;

public class NativeReconciliationTests
{
    const long T0 = TestItems.T0;
    const long Hour = 3_600_000_000_000;

    static (NativeReconciliation, NativeReconciliation) Sessions(IEnumerable<SyncItem> a, IEnumerable<SyncItem> b, long start, long end,
        long horizonA = long.MinValue, long horizonB = long.MinValue)
    {
        var sa = new MemorySyncItemSource(a);
        var sb = new MemorySyncItemSource(b);
        return (new NativeReconciliation(SyncScope.All, _ => sa, start, end, horizonA),
                new NativeReconciliation(SyncScope.All, _ => sb, horizon: horizonB));
    }

    [Fact]
    public void Identical_sets_take_one_round_trip_under_256_bytes_each_way()
    {
        var rng = new Random(1);
        var items = Enumerable.Range(0, 20_000).Select(_ => TestItems.RandomItem(rng, T0, T0 + Hour)).ToList();
        var (sa, sb) = Sessions(items, items, T0, T0 + Hour);
        Assert.Equal(2, TestItems.Drive(sa, sb));
        Assert.True(sa.BytesSent <= 256 && sb.BytesSent <= 256, $"{sa.BytesSent} / {sb.BytesSent}");
        Assert.True(sa.IsFinished && sb.IsFinished);
    }

    [Theory]
    [InlineData(100_000, 1000, 1000)]
    [InlineData(20_000, 0, 3000)]
    public void Large_sets_reconcile(int shared, int onlyA, int onlyB)
    {
        var rng = new Random(shared + onlyA);
        var (a, b) = TestItems.Pair(rng, shared, onlyA, onlyB, r => TestItems.RandomItem(r, T0, T0 + 24 * Hour));
        var (sa, sb) = Sessions(a, b, T0, T0 + 24 * Hour);
        TestItems.Drive(sa, sb);
        TestItems.AssertReconciled(a, b, sa, sb);
    }

    [Fact]
    public void The_higher_horizon_bounds_the_range_on_both_sides()
    {
        var rng = new Random(4);
        var (a, b) = TestItems.Pair(rng, 3000, 200, 200, r => TestItems.RandomItem(r, T0, T0 + 10 * Hour));
        // B evicted everything older than T0 + 6 h on purpose: nothing older may be offered to it or asked of it.
        var (sa, sb) = Sessions(a, b, T0, T0 + 10 * Hour, horizonA: T0 + 2 * Hour, horizonB: T0 + 6 * Hour);
        TestItems.Drive(sa, sb);
        Assert.Equal(T0 + 6 * Hour, sa.AgreedStart);
        Assert.Equal(T0 + 6 * Hour, sb.AgreedStart);
        TestItems.AssertReconciled(a, b, sa, sb, T0 + 6 * Hour, T0 + 10 * Hour);
    }

    [Fact]
    public void Disjoint_topics_end_after_the_accept()
    {
        var src = new MemorySyncItemSource([new SyncItem(T0, MessageHash.Max)]);
        var a = new NativeReconciliation(new SyncScope(["/waku/2/rs/1/0"], []), _ => src, T0, T0 + Hour);
        var b = new NativeReconciliation(new SyncScope(["/waku/2/rs/1/1"], []), _ => src);
        Assert.Equal(2, TestItems.Drive(a, b));
        Assert.Empty(a.ToSend);
        Assert.True(a.IsFinished && b.IsFinished);
    }

    [Fact]
    public void Random_garbage_at_any_step_is_a_clean_error_never_a_crash()
    {
        // Record an honest session, then replay the initiator's frames into fresh responders (the nonce travels in the
        // Open frame, so each replay reaches the same state) and corrupt one frame at a time: flipped bytes, truncation
        // or appended junk must end in a reply or a SyncProtocolException, nothing else.
        var rng = new Random(5);
        var (a, b) = TestItems.Pair(rng, 3000, 150, 150, r => TestItems.RandomItem(r, T0, T0 + Hour));
        var sourceA = new MemorySyncItemSource(a);
        var sourceB = new MemorySyncItemSource(b);
        var initiator = new NativeReconciliation(SyncScope.All, _ => sourceA, T0, T0 + Hour);
        var recorded = new List<byte[]>();
        var honest = new NativeReconciliation(SyncScope.All, _ => sourceB);
        for (byte[]? frame = initiator.Initiate(); frame is not null;)
        {
            recorded.Add(frame);
            var reply = honest.Receive(frame);
            frame = reply is null ? null : initiator.Receive(reply);
        }
        Assert.True(recorded.Count >= 3, $"{recorded.Count} initiator frames");
        for (int i = 0; i < 600; i++)
        {
            int step = i % recorded.Count;
            var victim = new NativeReconciliation(SyncScope.All, _ => sourceB);
            for (int k = 0; k < step; k++) victim.Receive(recorded[k]);
            var frame = (byte[])recorded[step].Clone();
            switch (i / recorded.Count % 3)
            {
                case 0: frame[rng.Next(frame.Length)] ^= (byte)rng.Next(1, 256); break;
                case 1: frame = frame[..rng.Next(frame.Length)]; break;
                default: frame = [.. frame, .. Enumerable.Range(0, rng.Next(1, 40)).Select(_ => (byte)rng.Next(256))]; break;
            }
            try { victim.Receive(frame); }
            catch (SyncProtocolException) { Assert.True(victim.IsFinished); }
        }
    }

    [Fact]
    public void Peers_with_different_tunings_still_reconcile_exactly()
    {
        // The splitting policy is local and the fingerprint width is the initiator's choice: any mix must work.
        var rng = new Random(8);
        var (a, b) = TestItems.Pair(rng, 20_000, 300, 200, r => TestItems.RandomItem(r, T0, T0 + Hour));
        var tunings = new[]
        {
            NativeTuning.Default,
            NativeTuning.Unplanned,
            NativeTuning.Unplanned with { FingerprintBytes = 4, FixedFanout = 16, BounceBeforeItems = false },
            NativeTuning.Unplanned with { FingerprintBytes = 8, SlicesPerDifference = 1, ItemsThreshold = 8, SingleDifferenceSearch = false },
            NativeTuning.Unplanned with { TargetRoundTrips = 3, PairSearch = true, UnconfirmedSlicesPerDifference = 3, ClosingListLimit = 64 },
            NativeTuning.Unplanned with { TargetRoundTrips = 2, PairSearch = true, LargeNode = 64, ClosingListLimit = 4, PlanLeafItems = 1 },
            NativeTuning.Default with { TargetRoundTrips = 1, LargeNode = 64 },
            NativeTuning.Default with { LargeNode = 64, PlanMinDensity = 0 },
        };
        foreach (var ta in tunings)
            foreach (var tb in tunings)
            {
                var sa = new MemorySyncItemSource(a);
                var sb = new MemorySyncItemSource(b);
                var ia = new NativeReconciliation(SyncScope.All, _ => sa, T0, T0 + Hour, long.MinValue, null, ta);
                var rb = new NativeReconciliation(SyncScope.All, _ => sb, 0, 0, long.MinValue, null, tb);
                try { TestItems.Drive(ia, rb); }
                catch (SyncProtocolException e) { Assert.Fail($"tunings {Array.IndexOf(tunings, ta)} and {Array.IndexOf(tunings, tb)}: {e.Message}"); }
                TestItems.AssertReconciled(a, b, ia, rb);
            }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(9)]
    [InlineData(255)]
    public void An_open_frame_asking_for_an_unsupported_fingerprint_width_is_rejected(byte width)
    {
        var src = new MemorySyncItemSource([new SyncItem(T0, MessageHash.Max)]);
        var open = new NativeReconciliation(SyncScope.All, _ => src, T0, T0 + Hour).Initiate();
        // version, kind, two empty topic lists, three varints, the 8-byte nonce, then the width.
        int at = 4;
        for (int i = 0; i < 3; i++) { Assert.True(Varint.TryRead(open.AsSpan(at), out _, out int length)); at += length; }
        at += 8;
        Assert.Equal(NativeTuning.Default.FingerprintBytes, open[at]);
        open[at] = width;
        var b = new NativeReconciliation(SyncScope.All, _ => src);
        var error = Assert.Throws<SyncProtocolException>(() => b.Receive(open));
        Assert.Contains("fingerprint width", error.Message);
    }

    public static TheoryData<byte[], string> HostileSteps => new()
    {
        { new byte[] { 4, 2, 9 }, "entry type" },                                   // type 9
        { new byte[] { 4, 2, 8, 16, 1, 2, 3, 4, 5, 6 }.Concat(Enumerable.Repeat((byte)1, 16)).ToArray(), "outside the Open frame" }, // Counts in a Step
        { new byte[] { 4, 2 }.Concat(Enumerable.Repeat(new byte[] { 1, 0 }, 17).SelectMany(x => x)).ToArray(), "more entries" }, // 17 answers, 16 open nodes
        { new byte[] { 4, 2, 1, 0 }, "cover" },                                      // 1 answer, 16 open nodes
        { new byte[] { 4, 2, 2, 0xff, 0xff, 0x7f }, "fan-out" },                     // split into 2M children in 6 bytes
        { new byte[] { 4, 2, 4, 0xff, 0xff, 0x3f }, "item count" },                  // a million extras announced
        { new byte[] { 4, 2, 0, 0xff, 0x01 }, "done run" },                          // 255 nodes closed of 16
        { new byte[] { 4, 2, 6, 0x05 }, "Missing for a node we said we hold items in" }, // "you hold nothing here": b said it does
        { new byte[] { 4, 2, 6, 0x00 }, "missing count" },                           // Missing with no items
        { new byte[] { 4, 2, 6, 0x81, 0x80, 0x80, 0x01 }, "missing count" },         // 2^21 + 1 > MaxItemsPerSet
        { new byte[] { 4, 0 }, "frame kind" },                                       // a second Open
        { new byte[] { 1, 2 }, "version" },                                          // a 1.0.0 frame
        { new byte[] { 2, 2, 0, 16 }, "version" },                                   // a 2.0.0 frame in a 4.0.0 session
        { new byte[] { 3, 2, 0, 16 }, "version" },                                   // a 3.0.0 frame in a 4.0.0 session
        { new byte[] { 4, 2, 7, 0xff, 0xff, 0x3f }, "item count" },                  // a Closing list of a million items in 6 bytes
        { new byte[] { 4, 2, 7, 2 }.Concat(Closing(2)).ToArray(), "ascend" },        // a Closing list naming one item twice
    };

    // Two Closing items: time delta 0 from the node's lower bound and the same hash each time, so they do not ascend.
    static IEnumerable<byte> Closing(int k) => Enumerable.Repeat(new byte[] { 0 }.Concat(Enumerable.Repeat((byte)0x42, 32)), k).SelectMany(x => x);

    [Theory]
    [MemberData(nameof(HostileSteps))]
    public void Hostile_steps_are_rejected(byte[] frame, string what)
    {
        var rng = new Random(9);
        var items = Enumerable.Range(0, 5000).Select(_ => TestItems.RandomItem(rng, T0, T0 + Hour)).ToList();
        // a sends its root as one Fingerprint (not split in Open), so b's answer splits it into 16 slices: 16 open nodes.
        var a = new NativeReconciliation(SyncScope.All, _ => new MemorySyncItemSource(items.Take(4000)), T0, T0 + Hour, long.MinValue, null,
            new NativeTuning { LargeNode = 1 << 20 });
        var b = new NativeReconciliation(SyncScope.All, _ => new MemorySyncItemSource(items.Skip(1000)));
        b.Receive(a.Initiate());
        Assert.False(b.IsFinished);
        var error = Assert.Throws<SyncProtocolException>(() => b.Receive(frame));
        Assert.Contains(what, error.Message);
        Assert.True(b.IsFinished);
    }

    [Fact]
    public void Items_ingested_during_a_session_where_we_said_we_hold_nothing_do_not_make_the_peers_Missing_a_violation()
    {
        // The store takes messages while a session runs: b says it holds nothing in the newest quarter, a answers Missing for
        // what it holds there, and by then b holds items there. That answer is honest: the session goes on, a pushes its items
        // into the blind range, and b's new items wait for the next session.
        var rng = new Random(12);
        var shared = Enumerable.Range(0, 3000).Select(_ => TestItems.RandomItem(rng, T0, T0 + 3 * Hour / 4)).ToList();
        var newest = Enumerable.Range(0, 40).Select(_ => TestItems.RandomItem(rng, T0 + 3 * Hour / 4, T0 + Hour)).ToList();
        var sa = new MemorySyncItemSource(shared.Concat(newest));
        var sb = new MemorySyncItemSource(shared);
        var a = new NativeReconciliation(SyncScope.All, _ => sa, T0, T0 + Hour);
        var b = new NativeReconciliation(SyncScope.All, _ => sb);
        var ingested = new List<SyncItem>();
        byte[]? frame = a.Initiate();
        for (int round = 0; frame is not null && round < 64; round++)
        {
            frame = b.Receive(frame);
            // After each of b's frames b ingests a message in the quarter it may just have called empty.
            var late = TestItems.RandomItem(rng, T0 + 3 * Hour / 4, T0 + Hour);
            sb.Insert(late);
            ingested.Add(late);
            if (frame is null) break;
            frame = a.Receive(frame);
        }
        Assert.True(a.IsFinished && b.IsFinished);
        Assert.Equal(newest.ToHashSet(), a.ToSend.ToHashSet());
        Assert.Equal(newest.Count, b.BlindCount + b.ToReceive.Count);
        Assert.Empty(a.ToReceive.Intersect(ingested));
    }

    [Fact]
    public void A_peer_that_never_agrees_is_cut_off_by_the_round_cap()
    {
        // Echo every frame's fingerprints back with random values: splits shrink the nodes until they are
        // item lists, and the round cap bounds whatever the peer keeps inventing.
        var rng = new Random(6);
        var items = Enumerable.Range(0, 30_000).Select(_ => TestItems.RandomItem(rng, T0, T0 + Hour)).ToList();
        var limits = new SyncLimits { MaxRounds = 12 };
        var honest = new NativeReconciliation(SyncScope.All, _ => new MemorySyncItemSource(items), T0, T0 + Hour, limits: limits);
        var liar = new NativeReconciliation(SyncScope.All, _ => new MemorySyncItemSource(items.Select(x => x with { Hash = TestItems.RandomHash(rng) })), limits: limits);
        int frames = 0;
        try { frames = TestItems.Drive(honest, liar); }
        catch (SyncProtocolException) { frames = -1; }
        Assert.True(frames == -1 || frames <= 2 * limits.MaxRounds + 1);
        Assert.True(honest.MessagesReceived <= limits.MaxRounds + 1);
    }
}
