namespace StoreSync.Waku.Sync.Backfill;

/// <summary>A time slice [<see cref="From"/>, <see cref="To"/>) of a scope's history (ns): what a swarm backfill fetches from one
/// peer at a time, with one reconciliation session over it (spec/sync.md §5.7).</summary>
public readonly record struct BackfillSlice(long From, long To)
{
    /// <summary>Cuts [<paramref name="from"/>, <paramref name="to"/>) into <paramref name="count"/> slices of equal time width
    /// (the remainder to the newest ones), newest first.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An empty range or a count below 1.</exception>
    public static BackfillSlice[] Cut(long from, long to, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (to <= from) throw new ArgumentOutOfRangeException(nameof(to), $"empty range [{from}, {to})");
        // Widths in UInt128 so that a range spanning all of long never overflows.
        var width = (UInt128)(ulong)(to - from);
        if (width < (UInt128)count) count = (int)(ulong)width;
        var slices = new BackfillSlice[count];
        long upper = to;
        for (int i = 0; i < count; i++)
        {
            long lower = i == count - 1 ? from : from + (long)(ulong)(width * (UInt128)(ulong)(count - 1 - i) / (UInt128)count);
            slices[i] = new BackfillSlice(lower, upper);
            upper = lower;
        }
        return slices;
    }
}
