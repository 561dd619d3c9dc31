namespace StoreSync.Reconciliation.Nwaku;

/// <summary>How a range is described in a nwaku RangesData payload.</summary>
public enum RangeType : byte
{
    Skip = 0,
    Fingerprint = 1,
    ItemSet = 2,
}
