namespace StoreSync.Reconciliation.Native;

/// <summary>A range [From, To) where the peer pushes items without listing them, <see cref="Count"/> of them: accept its pushes
/// there by range rather than by hash. A blind range (a Missing entry, spec/sync.md §3.2 rule 1): we hold nothing there and the
/// count is exact; an offered range (our Closing entry, rule 7): what we lack there, at most the peer's count.</summary>
public readonly record struct BlindRange(SyncItem From, SyncItem To, long Count);
