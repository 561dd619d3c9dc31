using StoreSync.Core;
using StoreSync.Reconciliation;

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

    /// <summary>A random pair drawn by shape: empty, tiny or larger shared parts, 0/1/many extras per side, tiny or wide spans.</summary>
    public static (List<SyncItem> A, List<SyncItem> B, long Span) Shaped(int seed, byte shape)
    {
        var rng = new Random(seed);
        int shared = (shape % 4) switch { 0 => 0, 1 => rng.Next(5), 2 => rng.Next(300), _ => rng.Next(3000) };
        int onlyA = (shape / 4 % 3) switch { 0 => 0, 1 => 1, _ => rng.Next(200) };
        int onlyB = (shape / 12 % 3) switch { 0 => 0, 1 => 1, _ => rng.Next(200) };
        long span = (shape / 36 % 3) switch { 0 => 4, 1 => 1000, _ => 3_600_000_000_000 }; // tiny spans force equal timestamps
        var (a, b) = Pair(rng, shared, onlyA, onlyB, r => RandomItem(r, T0, T0 + span));
        return (a, b, span);
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
        Assert.True(aOnly.SetEquals(sa.ToSend), $"A to send: expected {aOnly.Count}, got {sa.ToSend.Count}");
        Assert.True(bOnly.SetEquals(sb.ToSend), $"B to send: expected {bOnly.Count}, got {sb.ToSend.Count}");
        if (bothLearn)
        {
            Assert.True(bOnly.SetEquals(sa.ToReceive), $"A to receive: expected {bOnly.Count}, got {sa.ToReceive.Count}");
            Assert.True(aOnly.SetEquals(sb.ToReceive), $"B to receive: expected {aOnly.Count}, got {sb.ToReceive.Count}");
        }
        else
        {
            Assert.True(sa.ToReceive.IsSubsetOf(bOnly) && sb.ToReceive.IsSubsetOf(aOnly), "a side expects an item it should not");
        }
        // Applying the pushes gives both sides the union.
        Assert.True(setA.Union(sb.ToSend).ToHashSet().SetEquals(setB.Union(sa.ToSend)));
    }
}
