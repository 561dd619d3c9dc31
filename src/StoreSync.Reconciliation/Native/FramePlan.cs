namespace StoreSync.Reconciliation.Native;

/// <summary>Where a frame stands in the session's plan of <see cref="NativeTuning.TargetRoundTrips"/> round trips
/// (spec/sync.md §3.2, "the frame plan"): which frames may still split, how small their children must be, and which
/// nodes may still be handed back.</summary>
/// <remarks>Frames 1 … 2R − 2 may split; 2R − 2 is the last, and its children reach the closing frame 2R − 1 small enough to
/// be listed; the closing frame opens nothing the peer cannot settle in frame 2R. Local policy only: a peer without a plan
/// (or with another) still reconciles exactly, it just takes other paths.</remarks>
internal readonly struct FramePlan(NativeTuning tuning, int frame)
{
    /// <summary>The frame being written, Open being 1.</summary>
    public int Frame => frame;

    bool Active => tuning.TargetRoundTrips > 0;

    /// <summary>The closing frame or later (the plan missed): lists, not splits.</summary>
    public bool Closing => Active && frame >= 2 * tuning.TargetRoundTrips - 1;

    /// <summary>The answer to the closing frame or later: a node this side would list is offered whole instead (a Closing
    /// entry, version 3), so the session can end with this frame.</summary>
    public bool Answering => Active && frame >= 2 * tuning.TargetRoundTrips;

    /// <summary>The last frame that may split.</summary>
    public bool PreClosing => Active && frame == 2 * tuning.TargetRoundTrips - 2;

    /// <summary>Largest child a split in this frame may make (0: no bound): with k frames left that may split (this one
    /// included), LeafItems × Growth^(k−1), so every node reaches the closing frame small enough to list.</summary>
    public long ChildLimit
    {
        get
        {
            if (!Active) return 0;
            int levels = 2 * tuning.TargetRoundTrips - 1 - frame;
            if (levels < 1) return 0;
            return (long)Math.Min(tuning.PlanLeafItems * Math.Pow(tuning.PlanGrowth, levels - 1), 1L << 40);
        }
    }

    /// <summary>Rule 3: hand a fresh node back when the peer holds one more item (or two, found by its pair search). Under a
    /// plan, a node expected to hold many differences is split instead (the peer's search would most likely fail and the
    /// node lose a frame), and in the last frame that may split only small nodes go back, since a failed search in the
    /// closing frame lists the node whole.</summary>
    public bool MayHandBack(long cL, long cR, in FanoutEstimator estimator)
    {
        bool one = cR == cL + 1, two = tuning.PairSearch && cR == cL + 2 && cR <= NativeReconciliation.PairSearchLimit;
        if (!one && !two) return false;
        if (!Active) return true;
        if (!Closing && estimator.Expected(Math.Max(cL, cR)) > tuning.HandBackMaxDifferences) return false;
        return !PreClosing || cR <= tuning.PreClosingHandBackLimit;
    }
}
