using StoreSync.Reconciliation;

namespace StoreSync.Node.Hosting;

/// <summary>What the sync scheduler needs to backfill newest history first and stop at a storage limit (spec/sync.md §5.6).</summary>
public interface IBackfillLimits
{
    /// <summary>Whether a storage limit (of a community the scope touches, or the global one) bounds what the scope may hold.</summary>
    bool IsLimited(SyncScope scope);

    /// <summary>Whether a limit that bounds the scope is reached now (within one message of it).</summary>
    bool IsFull(SyncScope scope);

    /// <summary>The retention horizon's sync start of the scope (rises when eviction takes something on purpose).</summary>
    long SyncStart(SyncScope scope);
}
