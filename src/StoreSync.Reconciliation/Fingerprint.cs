using StoreSync.Core;

namespace StoreSync.Reconciliation;

/// <summary>The summary of a range: the XOR of its items' hashes and how many items it holds.</summary>
/// <remarks>
/// XOR is its own inverse, so the fingerprint of [a, b) is prefix(b) ⊕ prefix(a) and an index of partial
/// sums answers any range in O(log n). The count travels with it because XOR alone cannot tell a range
/// from the same range plus items whose hashes cancel.
/// </remarks>
public readonly record struct Fingerprint(MessageHash Xor, long Count)
{
    public static Fingerprint Empty => default;

    public Fingerprint Add(in MessageHash hash) => new(Xor.Xor(hash), Count + 1);

    public Fingerprint Remove(in MessageHash hash) => new(Xor.Xor(hash), Count - 1);

    /// <summary>Combines two disjoint ranges.</summary>
    public Fingerprint Plus(in Fingerprint other) => new(Xor.Xor(other.Xor), Count + other.Count);

    /// <summary>Removes a sub-range's summary from this one.</summary>
    public Fingerprint Minus(in Fingerprint other) => new(Xor.Xor(other.Xor), Count - other.Count);

    public static Fingerprint Of(ReadOnlySpan<SyncItem> items)
    {
        ulong w0 = 0, w1 = 0, w2 = 0, w3 = 0;
        foreach (ref readonly var item in items)
        {
            w0 ^= item.Hash.W0; w1 ^= item.Hash.W1; w2 ^= item.Hash.W2; w3 ^= item.Hash.W3;
        }
        return new Fingerprint(new MessageHash(w0, w1, w2, w3), items.Length);
    }
}
