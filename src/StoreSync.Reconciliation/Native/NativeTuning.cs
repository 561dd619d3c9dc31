namespace StoreSync.Reconciliation.Native;

/// <summary>The local splitting policy of a native-mode session: how this side answers a differing node.</summary>
/// <remarks>
/// None of these change the wire format: a split says its fan-out, an answer says what it is, so two peers with
/// different tunings still reconcile exactly. The defaults are what measured best (spec/sync.md §3.5); the other
/// values exist so the benchmark can show what each idea is worth.
/// </remarks>
public sealed record NativeTuning
{
    /// <summary>Slices per expected difference when splitting (2 ⇒ λ = ½ difference per slice).</summary>
    public double SlicesPerDifference { get; init; } = 2;

    /// <summary>Minimum fan-out for nodes of at least <see cref="LargeNode"/> items, so the next frame has samples to pool.</summary>
    public int MinFanoutLarge { get; init; } = 16;

    /// <summary>Estimate the density from agreeing siblings when the frame has them (off: from count differences only).</summary>
    public bool AgreementDensity { get; init; } = true;

    /// <summary>Largest split while the density is estimated from count differences alone (no agreeing siblings seen yet).</summary>
    public int UnconfirmedFanoutCap { get; init; } = 1024;

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

    /// <summary>Fingerprint width the initiator asks for in its Open frame (4–8 bytes); the responder follows it.</summary>
    public int FingerprintBytes { get; init; } = 6;

    public static NativeTuning Default { get; } = new();

    internal void Validate()
    {
        if (!(SlicesPerDifference > 0 && SlicesPerDifference <= 64)) throw new ArgumentOutOfRangeException(nameof(SlicesPerDifference));
        if (MinFanoutLarge is < 2 or > NativeReconciliation.MaxFanout) throw new ArgumentOutOfRangeException(nameof(MinFanoutLarge));
        if (UnconfirmedFanoutCap is < 2 or > NativeReconciliation.MaxFanout) throw new ArgumentOutOfRangeException(nameof(UnconfirmedFanoutCap));
        if (FingerprintBytes is < NativeReconciliation.MinFingerprintBytes or > 8) throw new ArgumentOutOfRangeException(nameof(FingerprintBytes));
        if (LargeNode < 2) throw new ArgumentOutOfRangeException(nameof(LargeNode));
        if (ItemsThreshold is < 0 or > 64) throw new ArgumentOutOfRangeException(nameof(ItemsThreshold));
        if (FixedFanout is < 0 or 1 or > NativeReconciliation.MaxFanout) throw new ArgumentOutOfRangeException(nameof(FixedFanout));
    }
}
