using StoreSync.Reconciliation;
using StoreSync.Storage;

namespace StoreSync.Waku.Sync;

/// <summary>The retention policy's horizons as sync sees them: a scope's sync range starts after what was evicted on purpose
/// (<see cref="Evictor.GetSyncStart"/>: the highest horizon + 1 of the configured scopes it overlaps).</summary>
public sealed class EvictorRetentionHorizon(Evictor evictor) : IRetentionHorizon
{
    public long HorizonOf(SyncScope scope) => evictor.GetSyncStart(scope);
}
