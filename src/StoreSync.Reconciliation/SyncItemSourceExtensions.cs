using System.Runtime.InteropServices;

namespace StoreSync.Reconciliation;

/// <summary>Helpers for reading whole ranges from an item source in bounded chunks.</summary>
public static class SyncItemSourceExtensions
{
    const int Chunk = 512;

    /// <summary>Appends every item of [from, to) to <paramref name="output"/>, at most <paramref name="limit"/> of them.</summary>
    /// <returns>False when the range holds more than <paramref name="limit"/> items (then at most limit + 1 were read).</returns>
    public static bool ReadAll(this IOrderedSyncItems source, SyncItem from, in SyncItem to, List<SyncItem> output, int limit = int.MaxValue)
    {
        int start = output.Count;
        while (from < to)
        {
            int taken = output.Count - start;
            // Read straight into the list; one item past the limit tells "more" from "exactly limit".
            int want = (int)Math.Min(Chunk, (long)limit - taken + 1);
            CollectionsMarshal.SetCount(output, start + taken + want);
            int n = source.Read(from, to, CollectionsMarshal.AsSpan(output).Slice(start + taken, want));
            CollectionsMarshal.SetCount(output, start + taken + n);
            if (taken + n > limit) { CollectionsMarshal.SetCount(output, start + limit); return false; }
            if (n < want) return true;
            from = output[^1].Successor();
        }
        return true;
    }
}
