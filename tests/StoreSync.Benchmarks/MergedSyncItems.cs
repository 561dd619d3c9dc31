using StoreSync.Reconciliation;

namespace StoreSync.Benchmarks;

/// <summary>One side's items as a shared sorted base plus the side's own sorted extras, merged on read.</summary>
/// <remarks>Two 10^7-item stores in one process then cost 40 bytes per shared item once, not twice.</remarks>
public sealed class MergedSyncItems(SyncItem[] shared, SyncItem[] own) : IOrderedSyncItems
{
    static int LowerBound(SyncItem[] items, in SyncItem key)
    {
        int lo = 0, hi = items.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (items[mid] < key) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Read calls so far (each would open a snapshot and iterators in today's RocksDB item source).</summary>
    public long Reads { get; private set; }

    public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination)
    {
        Reads++;
        int i = LowerBound(shared, from), j = LowerBound(own, from), n = 0;
        while (n < destination.Length)
        {
            bool hasI = i < shared.Length && shared[i] < to, hasJ = j < own.Length && own[j] < to;
            if (!hasI && !hasJ) break;
            destination[n++] = hasI && (!hasJ || shared[i] < own[j]) ? shared[i++] : own[j++];
        }
        return n;
    }
}
