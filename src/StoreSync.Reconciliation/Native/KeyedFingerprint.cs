using StoreSync.Core;

namespace StoreSync.Reconciliation.Native;

/// <summary>The 8-byte native-mode fingerprint: a keyed 64-bit mix of a range's XOR and count.</summary>
/// <remarks>
/// Mixing the count in means a range and the same range plus hash-cancelling items differ; keying with the
/// session nonce means a peer cannot precompute 64-bit truncation collisions before the session. It stays
/// a function of (XOR, count), so the index's partial sums serve it and "range minus one candidate item"
/// can be tested by XOR-ing the candidate out (the single-difference search). See spec/sync.md §3.3.
/// </remarks>
public static class KeyedFingerprint
{
    public static ulong Compute(in MessageHash xor, long count, ulong key)
    {
        ulong h = Round(key ^ ((ulong)count * 0xD6E8FEB86659FD93UL));
        h = Round(h ^ xor.W0);
        h = Round(h ^ xor.W1);
        h = Round(h ^ xor.W2);
        return Round(h ^ xor.W3);
    }

    public static ulong Compute(in Fingerprint fp, ulong key) => Compute(fp.Xor, fp.Count, key);

    static ulong Round(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
