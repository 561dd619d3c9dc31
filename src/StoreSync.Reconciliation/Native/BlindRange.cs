namespace StoreSync.Reconciliation.Native;

/// <summary>A range [From, To) where we hold nothing and the peer pushes its <see cref="Count"/> items without listing them
/// (a Missing entry, spec/sync.md §3.2 rule 1): accept its pushes there by range rather than by hash.</summary>
public readonly record struct BlindRange(SyncItem From, SyncItem To, long Count);
