using StoreSync.Core;

namespace StoreSync.Reconciliation;

/// <summary>One reconcilable item: a message's timestamp and hash, ordered by (timestamp, hash bytes).</summary>
public readonly record struct SyncItem(long Timestamp, MessageHash Hash) : IComparable<SyncItem>
{
    /// <summary>The smallest key; lower bound of "everything".</summary>
    public static SyncItem MinValue => new(long.MinValue, MessageHash.Zero);

    /// <summary>The largest key. Reserved as the exclusive upper bound of "everything", never stored.</summary>
    public static SyncItem MaxValue => new(long.MaxValue, MessageHash.Max);

    /// <summary>The key of a time bound: (timestamp, 32 zero bytes), so [At(a), At(b)) selects a ≤ t &lt; b.</summary>
    public static SyncItem At(long timestamp) => new(timestamp, MessageHash.Zero);

    public int CompareTo(SyncItem other)
    {
        int c = Timestamp.CompareTo(other.Timestamp);
        return c != 0 ? c : Hash.CompareTo(other.Hash);
    }

    /// <summary>The smallest key greater than this one (used to page through a range).</summary>
    public SyncItem Successor()
    {
        var h = Hash;
        ulong w3 = h.W3 + 1, w2 = h.W2, w1 = h.W1, w0 = h.W0;
        if (w3 == 0 && ++w2 == 0 && ++w1 == 0 && ++w0 == 0)
            return Timestamp == long.MaxValue ? this : new SyncItem(Timestamp + 1, MessageHash.Zero);
        return new SyncItem(Timestamp, new MessageHash(w0, w1, w2, w3));
    }

    /// <summary>The item as a 128-bit position (order-preserving timestamp, first hash word) for even splitting.</summary>
    public UInt128 Position => new((ulong)Timestamp ^ 0x8000_0000_0000_0000UL, Hash.W0);

    /// <summary>The bound key at a 128-bit position: (timestamp, first hash word, zeros).</summary>
    public static SyncItem FromPosition(UInt128 position) =>
        new((long)((ulong)(position >> 64) ^ 0x8000_0000_0000_0000UL), new MessageHash((ulong)position, 0, 0, 0));

    public static bool operator <(SyncItem a, SyncItem b) => a.CompareTo(b) < 0;
    public static bool operator >(SyncItem a, SyncItem b) => a.CompareTo(b) > 0;
    public static bool operator <=(SyncItem a, SyncItem b) => a.CompareTo(b) <= 0;
    public static bool operator >=(SyncItem a, SyncItem b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"({Timestamp}, {Hash})";
}
