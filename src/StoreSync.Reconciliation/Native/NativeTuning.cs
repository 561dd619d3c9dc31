namespace StoreSync.Reconciliation.Native;

/// <summary>The local splitting policy of a native-mode session: how this side answers a differing node.</summary>
/// <remarks>
/// None of these change the wire format: a split says its fan-out, an answer says what it is, so two peers with
/// different tunings still reconcile exactly. The defaults are what measured best: the frame plan of three round trips with
/// its density gate (issue 17's target; spec/sync.md §3.2, §3.5, spec/performance.md); <see cref="Unplanned"/> is the policy
/// before it, and the other values exist so the benchmark can show what each idea is worth.
/// </remarks>
public sealed record NativeTuning
{
    /// <summary>Slices per expected difference when splitting (2 ⇒ λ = ½ difference per slice).</summary>
    public double SlicesPerDifference { get; init; } = 2;

    /// <summary>Minimum fan-out for nodes of at least <see cref="LargeNode"/> items, so the next frame has samples to pool.</summary>
    public int MinFanoutLarge { get; init; } = 16;

    /// <summary>Slices holding items the Open frame's root split aims at: its fan-out (from <see cref="MinFanoutLarge"/>) doubles,
    /// up to 1024, while fewer of its slices hold items (1: never doubles). Only in a version-4 Open, whose slices carry a count
    /// each; a version 2/3 Open (a fingerprint per slice) never doubles.</summary>
    public int OpenSlices { get; init; } = 32;

    /// <summary>Estimate the density from agreeing siblings when the frame has them (off: from count differences only).</summary>
    public bool AgreementDensity { get; init; } = true;

    /// <summary>Largest split while the density is estimated from count differences alone (no agreeing siblings seen yet).</summary>
    public int UnconfirmedFanoutCap { get; init; } = 8192;

    /// <summary>Node size from which <see cref="MinFanoutLarge"/> applies.</summary>
    public int LargeNode { get; init; } = 1024;

    /// <summary>A node with at most this many local items is sent as items rather than split.</summary>
    public int ItemsThreshold { get; init; } = 2;

    /// <summary>Resolve a node whose counts differ by one by finding the extra item (rule 2); off = always split.</summary>
    public bool SingleDifferenceSearch { get; init; } = true;

    /// <summary>Fixed fan-out instead of density-sized splits when &gt; 0 (negentropy-style; for comparison).</summary>
    public int FixedFanout { get; init; }

    /// <summary>On a fresh node where the peer holds exactly one more item, hand the node back (9 bytes) before listing our few items in full.</summary>
    public bool BounceBeforeItems { get; init; } = true;

    /// <summary>Answer a node the peer holds nothing of with Missing (its count) rather than Extras (every item listed).</summary>
    public bool MissingEntries { get; init; } = true;

    /// <summary>Round trips the session aims at (0: no plan, every frame splits as it likes). Frames 1 … 2R − 2 may split; the
    /// one before them splits finer (<see cref="ClosingSlicesPerDifference"/>), and frame 2R − 1 opens nothing the peer
    /// cannot close in frame 2R: it lists what it would have split (spec/sync.md §3.2, "the frame plan").</summary>
    public int TargetRoundTrips { get; init; } = 3;

    /// <summary>Slices per expected difference in the last frame that may split: its children are listed when not settled at once.</summary>
    public double ClosingSlicesPerDifference { get; init; } = 4;

    /// <summary>Largest node (our items) the closing frame lists instead of splitting; a larger one is split and costs frames.</summary>
    public int ClosingListLimit { get; init; } = 64;

    /// <summary>Largest node (our items) the answer to the closing frame offers whole in a Closing entry instead of listing it
    /// for an answer (version 3): each offered item is pushed even if the peer holds it, so this bounds the copies per node.</summary>
    public int ClosingOfferLimit { get; init; } = 16;

    /// <summary>Largest child of a split in the last frame that may split (the plan's leaves, listed when not settled at once).</summary>
    public int PlanLeafItems { get; init; } = 4;

    /// <summary>How much larger the plan lets children be per frame that may still split after this one.</summary>
    public int PlanGrowth { get; init; } = 8;

    /// <summary>Under a frame plan, a node expected to hold more differences than this is split instead of handed back.</summary>
    public double HandBackMaxDifferences { get; init; } = 1.5;

    /// <summary>Slices per expected difference while the density is estimated from count differences alone (0: as
    /// <see cref="SlicesPerDifference"/>).</summary>
    public double UnconfirmedSlicesPerDifference { get; init; } = 1.5;

    /// <summary>Density gate of the frame plan (0: none): at the first frame this side answers, the plan is kept only if that frame's
    /// density estimate (independent differences per item of the differing nodes) is at least this; otherwise this side answers
    /// without a plan for the rest of the session, since the plan's size-bound splits cost more than a frame saves where
    /// differences are sparse (spec/sync.md §3.2, "the frame plan").</summary>
    public double PlanMinDensity { get; init; } = 0.0005;

    /// <summary>Resolve a node whose counts differ by two by finding the two extra items (small nodes only).</summary>
    public bool PairSearch { get; init; } = true;

    /// <summary>Largest node (the peer's count) handed back in the last frame that may split: a bigger one is split there, since
    /// a failed search in the closing frame would list it whole.</summary>
    public int PreClosingHandBackLimit { get; init; } = 32;

    /// <summary>Fingerprint width the initiator asks for in its Open frame (4–8 bytes); the responder follows it.</summary>
    public int FingerprintBytes { get; init; } = 6;

    /// <summary>The frame plan that meets issue 17's target at 10^6 items / 1 % scattered differences (3 round trips, ≤ 1.7 × the
    /// bound on seeds 1–8) and, with version 4's count-only Open, issue 5's d = 0 target (one round trip, ≤ 256 bytes each way at
    /// 10^6 items); spec/performance.md.</summary>
    public static NativeTuning Default { get; } = new();

    /// <summary>The same as <see cref="Default"/> (the name of the preset before it became the default).</summary>
    public static NativeTuning ThreeRoundTrips => Default;

    /// <summary>The default before the frame plan (version 3's): every frame splits as it likes, 16 Open slices; about 5 round
    /// trips at 10^6 / 1 %, kept for comparison.</summary>
    public static NativeTuning Unplanned { get; } = new()
    {
        TargetRoundTrips = 0, PairSearch = false, UnconfirmedFanoutCap = 1024, PreClosingHandBackLimit = 8, ClosingListLimit = 32,
        OpenSlices = 1, UnconfirmedSlicesPerDifference = 0, PlanMinDensity = 0,
    };

    internal void Validate()
    {
        if (!(SlicesPerDifference > 0 && SlicesPerDifference <= 64)) throw new ArgumentOutOfRangeException(nameof(SlicesPerDifference));
        if (MinFanoutLarge is < 2 or > NativeReconciliation.MaxFanout) throw new ArgumentOutOfRangeException(nameof(MinFanoutLarge));
        if (OpenSlices is < 1 or > NativeReconciliation.MaxOpenFanout) throw new ArgumentOutOfRangeException(nameof(OpenSlices));
        if (UnconfirmedFanoutCap is < 2 or > NativeReconciliation.MaxFanout) throw new ArgumentOutOfRangeException(nameof(UnconfirmedFanoutCap));
        if (FingerprintBytes is < NativeReconciliation.MinFingerprintBytes or > 8) throw new ArgumentOutOfRangeException(nameof(FingerprintBytes));
        if (LargeNode < 2) throw new ArgumentOutOfRangeException(nameof(LargeNode));
        if (ItemsThreshold is < 0 or > 64) throw new ArgumentOutOfRangeException(nameof(ItemsThreshold));
        if (TargetRoundTrips is < 0 or > 32) throw new ArgumentOutOfRangeException(nameof(TargetRoundTrips));
        if (!(ClosingSlicesPerDifference > 0 && ClosingSlicesPerDifference <= 64)) throw new ArgumentOutOfRangeException(nameof(ClosingSlicesPerDifference));
        if (ClosingListLimit is < 0 or > 1 << 16) throw new ArgumentOutOfRangeException(nameof(ClosingListLimit));
        if (ClosingOfferLimit is < 0 or > 1 << 16) throw new ArgumentOutOfRangeException(nameof(ClosingOfferLimit));
        if (!(PlanMinDensity >= 0 && PlanMinDensity <= 1)) throw new ArgumentOutOfRangeException(nameof(PlanMinDensity));
        if (!(HandBackMaxDifferences > 0)) throw new ArgumentOutOfRangeException(nameof(HandBackMaxDifferences));
        if (PlanLeafItems < 1) throw new ArgumentOutOfRangeException(nameof(PlanLeafItems));
        if (PlanGrowth < 2) throw new ArgumentOutOfRangeException(nameof(PlanGrowth));
        if (FixedFanout is < 0 or 1 or > NativeReconciliation.MaxFanout) throw new ArgumentOutOfRangeException(nameof(FixedFanout));
    }
}
