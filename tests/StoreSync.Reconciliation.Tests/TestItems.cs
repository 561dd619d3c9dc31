using FsCheck;
using FsCheck.Fluent;
using StoreSync.Core;
using StoreSync.Reconciliation.Native;
using StoreSync.Testing;

namespace StoreSync.Reconciliation.Tests;

/// <summary>Random item sets and a driver that passes frames between two sessions.</summary>
internal static class TestItems
{
    public const long T0 = 1_700_000_000_000_000_000;

    public static MessageHash RandomHash(Random rng) =>
        new((ulong)rng.NextInt64(), (ulong)rng.NextInt64(), (ulong)rng.NextInt64(), (ulong)rng.NextInt64());

    public static SyncItem RandomItem(Random rng, long lo, long hi) => new(rng.NextInt64(lo, hi), RandomHash(rng));

    /// <summary>Two sets sharing <paramref name="shared"/> items, with <paramref name="onlyA"/> and <paramref name="onlyB"/> extras.</summary>
    public static (List<SyncItem> A, List<SyncItem> B) Pair(Random rng, int shared, int onlyA, int onlyB, Func<Random, SyncItem> make)
    {
        var all = new HashSet<SyncItem>();
        while (all.Count < shared + onlyA + onlyB) all.Add(make(rng));
        var list = all.ToList();
        var a = list.Take(shared + onlyA).ToList();
        var b = list.Take(shared).Concat(list.Skip(shared + onlyA)).ToList();
        return (a, b);
    }

    static readonly Gen<ulong> Word = Gen.Choose(int.MinValue, int.MaxValue).Select(i => (ulong)(uint)i);

    /// <summary>Any 64-bit value.</summary>
    public static readonly Gen<ulong> UInt64 = from hi in Word from lo in Word select hi << 32 | lo;

    /// <summary>Any message hash.</summary>
    public static readonly Gen<MessageHash> Hash = from a in UInt64 from b in UInt64 from c in UInt64 from d in UInt64 select new MessageHash(a, b, c, d);

    /// <summary>A value in [<paramref name="lo"/>, <paramref name="hi"/>).</summary>
    public static Gen<long> Between(long lo, long hi) => UInt64.Select(x => lo + (long)(x % (ulong)(hi - lo)));

    /// <summary>An item with a timestamp in [<paramref name="lo"/>, <paramref name="hi"/>) and any hash.</summary>
    public static Gen<SyncItem> Item(long lo, long hi) => from t in Between(lo, hi) from h in Hash select new SyncItem(t, h);

    /// <summary>Two sets: the shared items and each side's extras, within [T0, T0 + Span).</summary>
    public sealed record PairCase(SyncItem[] Shared, SyncItem[] OnlyA, SyncItem[] OnlyB, long Span)
    {
        public List<SyncItem> A => [.. Shared, .. OnlyA];
        public List<SyncItem> B => [.. Shared, .. OnlyB];

        public override string ToString() => Shared.Length + OnlyA.Length + OnlyB.Length <= 12
            ? $"span {Span}; shared [{string.Join(", ", Shared)}]; only A [{string.Join(", ", OnlyA)}]; only B [{string.Join(", ", OnlyB)}]"
            : $"span {Span}; {Shared.Length} shared, {OnlyA.Length} only in A, {OnlyB.Length} only in B";
    }

    /// <summary>Random pairs by shape: empty, tiny or larger shared parts, 0/1/many extras per side, tiny or wide spans;
    /// a failure shrinks by dropping items.</summary>
    public static Arbitrary<PairCase> Pairs() => Arb.From(PairGen, c =>
            Shrinks.Removals(c.OnlyA).Select(x => c with { OnlyA = x })
                .Concat(Shrinks.Removals(c.OnlyB).Select(x => c with { OnlyB = x }))
                .Concat(Shrinks.Removals(c.Shared).Select(x => c with { Shared = x })));

    static Gen<int> Extras() => Gen.Elements(0, 1, -1).SelectMany(n => n >= 0 ? Gen.Constant(n) : Gen.Choose(0, 199));

    static readonly Gen<PairCase> PairGen =
            from shared in Gen.Elements(0, 4, 299, 2999).SelectMany(max => Gen.Choose(0, max))
            from onlyA in Extras()
            from onlyB in Extras()
            from span in Gen.Elements(4L, 1000L, 3_600_000_000_000L) // tiny spans force equal timestamps
            from items in Gen.ArrayOf(Item(T0, T0 + span), shared + onlyA + onlyB)
            select new PairCase(items[..shared], items[shared..(shared + onlyA)], items[(shared + onlyA)..], span);

    /// <summary>Native mode: a side knows exactly what will arrive, listed in ToReceive or, in its blind ranges (where it holds
    /// nothing of its own), counted.</summary>
    public static void AssertKnows(NativeReconciliation side, IReadOnlySet<SyncItem> peerExtras, IReadOnlySet<SyncItem> own, string name)
    {
        bool Blind(SyncItem x) => side.BlindRanges.Any(r => x >= r.From && x < r.To);
        bool Offer(SyncItem x) => side.OfferRanges.Any(r => x >= r.From && x < r.To);
        Assert.False(own.Any(Blind), $"{name} holds items in a range it was told it lacks entirely");
        // Where it offered its whole list (a Closing entry) the peer pushes what it lacks unlisted, at most the peer's count there.
        var listed = peerExtras.Where(x => !Blind(x) && !Offer(x)).ToHashSet();
        Assert.True(side.ToReceive.SetEquals(listed), $"{name} to receive: expected {listed.Count} listed, got {side.ToReceive.Count}");
        Assert.Equal(peerExtras.Count(Blind), side.BlindCount);
        foreach (var r in side.OfferRanges)
            Assert.True(peerExtras.Count(x => x >= r.From && x < r.To) <= r.Count, $"{name}: more comes into an offered range than its count");
    }

    /// <summary>What a session pushes: its ToSend and, in native mode, what its Closing entries offered whole.</summary>
    public static IEnumerable<SyncItem> Pushes(ReconciliationSession side) =>
        side is NativeReconciliation native ? side.ToSend.Concat(native.Offered) : side.ToSend;

    /// <summary>ToSend is exactly what the peer lacks, or (Closing entries) what it is known to lack, the rest of it offered:
    /// ToSend ⊆ extras ⊆ ToSend ∪ Offered, and only own items are offered.</summary>
    public static void AssertPushes(ReconciliationSession side, IReadOnlySet<SyncItem> extras, IReadOnlySet<SyncItem> own, string name)
    {
        if (side is not NativeReconciliation { Offered.Count: > 0 } native)
        {
            Assert.True(extras.SetEquals(side.ToSend), $"{name} to send: expected {extras.Count}, got {side.ToSend.Count}");
            return;
        }
        Assert.True(side.ToSend.IsSubsetOf(extras), $"{name} to send: an item the peer holds");
        Assert.True(extras.All(x => side.ToSend.Contains(x) || native.Offered.Contains(x)), $"{name}: an extra neither sent nor offered");
        Assert.True(native.Offered.IsSubsetOf(own), $"{name} offers an item it does not hold");
    }

    /// <summary>Pairs where one side lacks every item of a random time range (a node that was offline), on top of the
    /// random differences of <see cref="Pairs"/>.</summary>
    public static Arbitrary<PairCase> GapPairs()
    {
        var gaps =
            from c in PairGen
            from x in Between(0, c.Span)
            from y in Between(0, c.Span)
            from aLacks in Gen.Elements(false, true)
            select Gap(c, T0 + Math.Min(x, y), T0 + Math.Max(x, y) + 1, aLacks);
        return Arb.From(gaps);
    }

    static PairCase Gap(PairCase c, long lo, long hi, bool aLacks)
    {
        bool In(SyncItem x) => x.Timestamp >= lo && x.Timestamp < hi;
        var lost = c.Shared.Where(In).ToArray();
        var shared = c.Shared.Where(x => !In(x)).ToArray();
        return aLacks
            ? c with { Shared = shared, OnlyA = c.OnlyA.Where(x => !In(x)).ToArray(), OnlyB = [.. c.OnlyB, .. lost] }
            : c with { Shared = shared, OnlyA = [.. c.OnlyA, .. lost], OnlyB = c.OnlyB.Where(x => !In(x)).ToArray() };
    }

    /// <summary>Runs a session to the end; returns the number of frames exchanged.</summary>
    public static int Drive(ReconciliationSession initiator, ReconciliationSession responder)
    {
        byte[]? frame = initiator.Initiate();
        int frames = 1;
        var (to, from) = (responder, initiator);
        while (frame is not null)
        {
            frame = to.Receive(frame);
            if (frame is not null) frames++;
            (to, from) = (from, to);
        }
        return frames;
    }

    /// <summary>
    /// Asserts that the pushes (each side's ToSend) are exactly the symmetric difference, so applying them gives
    /// both sides the union; with <paramref name="bothLearn"/> also that each side knows what it will receive.
    /// </summary>
    /// <remarks>nwaku mode answers "I have nothing here" with an empty reconciled item set, so there the
    /// receiving side may learn of some items only when they arrive: its ToReceive is then only a subset.</remarks>
    public static void AssertReconciled(IEnumerable<SyncItem> a, IEnumerable<SyncItem> b, ReconciliationSession sa, ReconciliationSession sb,
        long lo = long.MinValue, long hi = long.MaxValue, bool bothLearn = true)
    {
        var setA = a.Where(x => x.Timestamp >= lo && x.Timestamp < hi).ToHashSet();
        var setB = b.Where(x => x.Timestamp >= lo && x.Timestamp < hi).ToHashSet();
        var aOnly = setA.Except(setB).ToHashSet();
        var bOnly = setB.Except(setA).ToHashSet();
        AssertPushes(sa, aOnly, setA, "A");
        AssertPushes(sb, bOnly, setB, "B");
        if (bothLearn && sa is NativeReconciliation na && sb is NativeReconciliation nb)
        {
            AssertKnows(na, bOnly, setA, "A");
            AssertKnows(nb, aOnly, setB, "B");
        }
        else if (bothLearn)
        {
            Assert.True(bOnly.SetEquals(sa.ToReceive), $"A to receive: expected {bOnly.Count}, got {sa.ToReceive.Count}");
            Assert.True(aOnly.SetEquals(sb.ToReceive), $"B to receive: expected {aOnly.Count}, got {sb.ToReceive.Count}");
        }
        else
        {
            Assert.True(sa.ToReceive.IsSubsetOf(bOnly) && sb.ToReceive.IsSubsetOf(aOnly), "a side expects an item it should not");
        }
        // Applying the pushes gives both sides the union.
        Assert.True(setA.Union(Pushes(sb)).ToHashSet().SetEquals(setB.Union(Pushes(sa))));
    }
}
