namespace StoreSync.Reconciliation;

/// <summary>Helpers for reading whole ranges from an item source in bounded chunks.</summary>
public static class SyncItemSourceExtensions
{
    const int Chunk = 512;

    /// <summary>Appends every item of [from, to) to <paramref name="output"/>, at most <paramref name="limit"/> of them.</summary>
    /// <returns>False when the range holds more than <paramref name="limit"/> items.</returns>
    public static bool ReadAll(this IOrderedSyncItems source, SyncItem from, in SyncItem to, List<SyncItem> output, int limit = int.MaxValue)
    {
        Span<SyncItem> buffer = stackalloc SyncItem[Chunk];
        int taken = 0;
        while (from < to)
        {
            int n = source.Read(from, to, buffer);
            if (n == 0) return true;
            if (taken + n > limit) return false;
            for (int i = 0; i < n; i++) output.Add(buffer[i]);
            taken += n;
            if (n < Chunk) return true;
            from = buffer[n - 1].Successor();
        }
        return true;
    }
}
