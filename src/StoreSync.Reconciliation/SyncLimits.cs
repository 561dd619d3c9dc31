namespace StoreSync.Reconciliation;

/// <summary>Named bounds on what one reconciliation session may cost, whatever the peer sends.</summary>
public sealed record SyncLimits
{
    /// <summary>Largest frame accepted or produced (nwaku reads with no limit; 1M items at 1 % need ≈ 5 MB).</summary>
    public int MaxFrameBytes { get; init; } = 64 << 20;

    /// <summary>Messages a session may receive; RBSR needs O(log n) (≈ 25 for nwaku's 8-way time split of 2^64 ns).</summary>
    public int MaxRounds { get; init; } = 64;

    /// <summary>Ranges (nwaku) or entries (native) accepted in one frame.</summary>
    public int MaxRangesPerMessage { get; init; } = 1 << 20;

    /// <summary>Items in one item set or item list.</summary>
    public int MaxItemsPerSet { get; init; } = 1 << 20;

    public static SyncLimits Default { get; } = new();
}
