namespace StoreSync.Reconciliation.Native;

/// <summary>What the survey of a received frame found: our (count, keyed fingerprint) per asked node and the
/// evidence for the density estimate (spec/sync.md §3.4).</summary>
/// <remarks>16 bytes per asked node in chunked lists, reused from frame to frame: a frame's memory is bounded by its
/// node count, not by per-node objects.</remarks>
internal sealed class Survey
{
    public readonly ChunkedList<long> Counts = new();
    public readonly ChunkedList<ulong> Fps = new();
    public int Tasks, Unsettled;
    public readonly ChunkedList<float> Squares = new(), Sizes = new(); // per differing node: max(δ², 2), max(counts)
    public int Mismatched;
    // Sibling groups (the children of one split): Σ −m·ln(agreeing / m) and Σ items over groups where some agree,
    // and how many non-empty children fell in groups where none agreed.
    public double Clusters, ClusterItems;
    public long Unsaturated, Saturated;
    // The peer's splits in this frame: children, and the peer's items in them (does its frame follow our frame plan?); a double,
    // so a hostile peer's counts (each ≤ 2^63) cannot wrap the sum.
    public long SplitChildren;
    public double SplitChildItems;
    // The Open frame's Counts entry: its node's fingerprint agrees with ours (every slice settled).
    public bool CountsAgree;

    public void AddSiblings(int nonEmpty, int agreed, long items)
    {
        if (nonEmpty < 4) return;
        if (agreed == 0) { Saturated += nonEmpty; return; }
        Clusters += nonEmpty * Math.Log((double)nonEmpty / agreed);
        ClusterItems += items;
        Unsaturated += nonEmpty;
    }

    /// <summary>Records our summary of one asked node; true when it agrees with the peer's (remote count -1: it cannot).</summary>
    public bool Record(long remoteCount, ulong remoteFp, long localCount, ulong localFp)
    {
        Tasks++;
        Counts.Add(localCount);
        Fps.Add(localFp);
        if (remoteCount == localCount && remoteFp == localFp) return true;
        Differs(remoteCount, localCount);
        return false;
    }

    /// <summary>Records our summary of a slice of the peer's Counts entry, whose full fingerprint the peer did not send: it needs
    /// an answer either way, and is density evidence only when its count or hint differs from ours (one that looks agreeing counts
    /// as an agreeing sibling, as it would with full fingerprints). The caller records slices empty on both sides, or under an
    /// agreeing root, with <see cref="Record"/>.</summary>
    public void RecordCountOnly(long remoteCount, long localCount, ulong localFp, bool looksAgreeing)
    {
        Tasks++;
        Counts.Add(localCount);
        Fps.Add(localFp);
        if (looksAgreeing) Unsettled++;
        else Differs(remoteCount, localCount);
    }

    void Differs(long remoteCount, long localCount)
    {
        Unsettled++;
        // Σ δ² estimates the number of differences when each is equally likely on either side (E[δ²] = D).
        long delta = remoteCount < 0 ? 0 : remoteCount - localCount;
        Squares.Add((float)Math.Max((double)delta * delta, 2));
        Sizes.Add(Math.Max(Math.Max(remoteCount, localCount), 1));
        Mismatched++;
    }

    /// <summary>Records an Items entry: a node we answer by merging, with no summary of ours.</summary>
    public void RecordItems()
    {
        Tasks++;
        Counts.Add(0);
        Fps.Add(0);
    }

    public void Clear()
    {
        Counts.Clear();
        Fps.Clear();
        Squares.Clear();
        Sizes.Clear();
        Tasks = Unsettled = Mismatched = 0;
        Clusters = ClusterItems = 0;
        Unsaturated = Saturated = 0;
        SplitChildren = 0;
        SplitChildItems = 0;
        CountsAgree = false;
    }
}
