using StoreSync.Core;
using StoreSync.Reconciliation.Nwaku;

namespace StoreSync.Reconciliation.Tests;

public class NwakuReconciliationTests
{
    const long T0 = TestItems.T0;
    const long Hour = 3_600_000_000_000;

    static (NwakuReconciliation, NwakuReconciliation) Sessions(IEnumerable<SyncItem> a, IEnumerable<SyncItem> b, long start, long end)
    {
        var sa = new MemorySyncItemSource(a);
        var sb = new MemorySyncItemSource(b);
        return (new NwakuReconciliation(SyncScope.All, _ => sa, start, end), new NwakuReconciliation(SyncScope.All, _ => sb));
    }

    [Fact]
    public void Identical_sets_take_one_round_trip()
    {
        var rng = new Random(1);
        var items = Enumerable.Range(0, 5000).Select(_ => TestItems.RandomItem(rng, T0, T0 + Hour)).ToList();
        var (sa, sb) = Sessions(items, items, T0, T0 + Hour);
        Assert.Equal(2, TestItems.Drive(sa, sb));
        Assert.Empty(sa.ToSend);
        Assert.Equal(1, sb.BytesSent); // [0x00]
    }

    [Fact]
    public void Only_the_requested_window_is_reconciled()
    {
        var rng = new Random(2);
        var (a, b) = TestItems.Pair(rng, 2000, 300, 300, r => TestItems.RandomItem(r, T0, T0 + 10 * Hour));
        var (sa, sb) = Sessions(a, b, T0 + 2 * Hour, T0 + 5 * Hour);
        TestItems.Drive(sa, sb);
        TestItems.AssertReconciled(a, b, sa, sb, T0 + 2 * Hour, T0 + 5 * Hour, bothLearn: false);
    }

    [Fact]
    public void Disjoint_topics_end_with_an_empty_frame()
    {
        var src = new MemorySyncItemSource();
        var a = new NwakuReconciliation(new SyncScope(["/waku/2/rs/1/0"], []), _ => src, T0, T0 + Hour);
        var b = new NwakuReconciliation(new SyncScope(["/waku/2/rs/1/1"], []), _ => src);
        var reply = b.Receive(a.Initiate());
        Assert.Equal(Array.Empty<byte>(), reply);
        Assert.True(b.IsFinished);
        Assert.Null(a.Receive(reply));
    }

    [Fact]
    public void Topics_are_intersected_before_opening_a_source()
    {
        SyncScope? opened = null;
        var src = new MemorySyncItemSource();
        var a = new NwakuReconciliation(new SyncScope(["/waku/2/rs/1/0", "/waku/2/rs/1/1"], ["/a/1/x/proto"]), _ => src, T0, T0 + Hour);
        var b = new NwakuReconciliation(new SyncScope(["/waku/2/rs/1/1", "/waku/2/rs/1/2"], []), s => { opened = s; return src; });
        b.Receive(a.Initiate());
        Assert.Equal(new SyncScope(["/waku/2/rs/1/1"], ["/a/1/x/proto"]), opened);
    }

    [Fact]
    public void Bogus_fingerprints_cannot_keep_a_responder_busy()
    {
        // A peer that answers every frame with fresh fingerprints for every range it receives: the time span
        // shrinks eightfold per level, so ranges become item sets and the session ends within the round cap.
        var rng = new Random(5);
        var items = Enumerable.Range(0, 20_000).Select(_ => TestItems.RandomItem(rng, T0, T0 + Hour)).ToList();
        var honest = new NwakuReconciliation(SyncScope.All, _ => new MemorySyncItemSource(items));
        var frame = new RangesData { Ranges = [new SyncRange(SyncItem.At(T0), SyncItem.At(T0 + Hour), RangeType.Fingerprint, TestItems.RandomHash(rng))] }.Encode();
        int rounds = 0;
        while (frame is not null && !honest.IsFinished)
        {
            var reply = honest.Receive(frame);
            if (reply is null) break;
            var got = RangesData.Decode(reply);
            frame = new RangesData
            {
                Ranges = got.Ranges.Select(r => r.Type == RangeType.Fingerprint
                    ? r with { Fingerprint = TestItems.RandomHash(rng) }
                    : r.Type == RangeType.ItemSet ? r with { Items = new ItemSet(r.Items!.Elements, true) } : r).ToList(),
            }.Encode();
            rounds++;
            Assert.True(rounds <= honest.Limits.MaxRounds);
        }
        Assert.True(rounds < 20, $"{rounds} rounds");
    }

    [Fact]
    public void Round_cap_ends_an_endless_session()
    {
        var src = new MemorySyncItemSource();
        var limits = new SyncLimits { MaxRounds = 3 };
        var b = new NwakuReconciliation(SyncScope.All, _ => src, limits: limits);
        var frame = new RangesData { Ranges = [new SyncRange(SyncItem.At(T0), SyncItem.At(T0 + Hour), RangeType.Fingerprint, TestItems.RandomHash(new Random(1)))] }.Encode();
        for (int i = 0; i < 3; i++) b.Receive(frame);
        Assert.Throws<SyncProtocolException>(() => b.Receive(frame));
        Assert.True(b.IsFinished);
    }

    [Fact]
    public void Unordered_item_sets_are_rejected()
    {
        var src = new MemorySyncItemSource();
        var b = new NwakuReconciliation(SyncScope.All, _ => src);
        var x = new SyncItem(T0 + 5, MessageHash.Max);
        var y = new SyncItem(T0 + 3, MessageHash.Max);
        var frame = new RangesData { Ranges = [new SyncRange(SyncItem.At(T0), SyncItem.At(T0 + 10), RangeType.ItemSet, default, new ItemSet([x, y], false))] }.Encode();
        Assert.Throws<SyncProtocolException>(() => b.Receive(frame));
    }
}
