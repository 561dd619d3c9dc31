namespace StoreSync.Reconciliation.Nwaku;

/// <summary>The items of a range as one side holds them, and whether that side has already compared them.</summary>
public sealed record ItemSet(IReadOnlyList<SyncItem> Elements, bool Reconciled)
{
    public static ItemSet EmptyReconciled { get; } = new([], true);
}
