namespace StoreSync.Reconciliation.Native;

/// <summary>An open node: a half-open range of positions both sides keep in the same order (spec/sync.md §3.1).</summary>
/// <remarks><c>SentCount</c> items from <c>SentStart</c> in the session's listed-items buffer are the items we listed in
/// it (-1: none), to read the peer's ItemsReply bitmap against.</remarks>
internal readonly record struct OpenNode(UInt128 Lo, UInt128 Hi, int SentStart = -1, int SentCount = 0)
{
    public SyncItem From => SyncItem.FromPosition(Lo);
    public SyncItem To => SyncItem.FromPosition(Hi);
    public bool Contains(in SyncItem item) => item >= From && item < To;
}
