namespace StoreSync.Waku.Sync;

/// <summary>The sync schedule's windows, intervals and concurrency (spec/sync.md §5.6; the node's <c>--store-sync-*</c> options).</summary>
public sealed record SyncScheduleOptions
{
    /// <summary>Between syncs of the recent window with each peer.</summary>
    public required TimeSpan Interval { get; init; }

    /// <summary>Between syncs of the whole history with each native peer.</summary>
    public required TimeSpan HistoryInterval { get; init; }

    /// <summary>Length of the recent window.</summary>
    public required TimeSpan Range { get; init; }

    /// <summary>How far behind now windows end, so that messages still on their way by relay are not taken for missing.</summary>
    public required TimeSpan RelayJitter { get; init; }

    /// <summary>Peers synced at the same time.</summary>
    public required int MaxConcurrentPeers { get; init; }
}
