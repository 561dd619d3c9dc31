namespace StoreSync.Storage.Sync;

/// <summary>Bounds on the memory the sync indexes may take, whatever scopes peers and the node's own policy name (spec/sync.md §5.2, §5.5).</summary>
public sealed record SyncIndexLimits
{
    /// <summary>Items of a scope the peer narrowed to content topics we do not index: read into memory once per session, at most this many.</summary>
    public int MaxAdHocScopeItems { get; init; } = 1_000_000;

    /// <summary>Live indexes kept for community scopes (content topics) the node itself syncs; scopes beyond it are read per session.</summary>
    public int MaxCommunityIndexes { get; init; } = 256;

    public static SyncIndexLimits Default { get; } = new();
}
