using StoreSync.Core;
using StoreSync.Reconciliation;

namespace StoreSync.Storage.Retention;

/// <summary>
/// The newest message a scope evicted on purpose, in store order (timestamp, then hash): nothing at or below it is kept, and
/// nothing at or below it should be fetched again. <see cref="Limits"/> are the limits in force when it was set.
/// </summary>
public readonly record struct RetentionHorizon(long Timestamp, MessageHash Hash, RetentionLimits Limits)
{
    /// <summary>True when (timestamp, hash) is at or below the horizon: evicted on purpose, not to be stored again.</summary>
    public bool Covers(long timestamp, in MessageHash hash) => timestamp < Timestamp || (timestamp == Timestamp && hash <= Hash);

    /// <summary>The first sync item above the horizon: a (timestamp, hash) range sync starts here.</summary>
    public SyncItem FirstKept => new SyncItem(Timestamp, Hash).Successor();

    /// <summary>
    /// The first timestamp a time-bounded sync range should cover: <see cref="Timestamp"/> + 1. Messages kept at exactly
    /// <see cref="Timestamp"/> (with a larger hash) are then outside the range; reconciling them instead would offer the
    /// evicted ones of that nanosecond again (spec/storage.md, "Retention and eviction").
    /// </summary>
    public long SyncStart => Timestamp == long.MaxValue ? long.MaxValue : Timestamp + 1;
}
