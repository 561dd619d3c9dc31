using StoreSync.Core;

namespace StoreSync.Reconciliation.Nwaku;

/// <summary>One range [Lower, Upper) of a RangesData payload with its description.</summary>
public sealed record SyncRange(SyncItem Lower, SyncItem Upper, RangeType Type, MessageHash Fingerprint = default, ItemSet? Items = null)
{
    public static SyncRange Skip(SyncItem lower, SyncItem upper) => new(lower, upper, RangeType.Skip);
}
