using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Storage;

namespace StoreSync.Waku.Sync;

/// <summary>The retention policy's horizons as sync sees them: a session's range starts where nothing its scope may hold was
/// evicted (<see cref="Evictor.GetLowestSyncStart"/>), and each transferred message is judged by its own scope's horizon.</summary>
/// <remarks>spec/sync.md §4: the lowest start over a session's scope loses nothing another community on the same shard still
/// keeps; what the peer then pushes below a community's own horizon is dropped per message, exactly as the ingress check does.</remarks>
public sealed class EvictorRetentionHorizon(Evictor evictor) : IRetentionHorizon
{
    public long HorizonOf(SyncScope scope) => evictor.GetLowestSyncStart(scope);

    public bool IsEvicted(string pubsubTopic, string contentTopic, long timestamp, in MessageHash hash) =>
        evictor.GetRetentionHorizon(pubsubTopic, contentTopic) is { } h && h.Covers(timestamp, hash);
}
