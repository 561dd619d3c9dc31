namespace StoreSync.Reconciliation.Native;

/// <summary>An open node: a half-open range of positions both sides keep in the same order (spec/sync.md §3.1).</summary>
/// <remarks><c>SentCount</c> items from <c>SentStart</c> in the session's listed-items buffer are the items we listed in
/// it (-1: none), to read the peer's ItemsReply bitmap against. <c>SaidEmpty</c>: the summary we sent of it had count 0, the one
/// case in which the peer may answer Missing. Our side may hold items there by the time the answer comes (ingest goes on during a
/// session), so that answer is checked against what we said, not against what we hold now.</remarks>
internal readonly record struct OpenNode(UInt128 Lo, UInt128 Hi, int SentStart = -1, int SentCount = 0, bool SaidEmpty = false)
{
    public SyncItem From => SyncItem.FromPosition(Lo);
    public SyncItem To => SyncItem.FromPosition(Hi);
    public bool Contains(in SyncItem item) => item >= From && item < To;

    /// <summary>This node, marked as one we summarised with <paramref name="count"/> items.</summary>
    public OpenNode Summarised(long count) => count == 0 ? this with { SaidEmpty = true } : this;
}
