namespace StoreSync.Reconciliation.Native;

/// <summary>How many slices a differing node is split into, from the differences a frame's survey suggests
/// (spec/sync.md §3.2 rule 6, §3.5).</summary>
internal readonly struct FanoutEstimator
{
    /// <summary>Most differences a count difference alone is taken to mean when nothing better is known.</summary>
    const double FewNodesDifferences = 8;

    /// <summary>Largest density (differences per item) the count differences of large nodes are believed to show: scattered
    /// differences give δ² ≈ D (10 % of the items: ~0.1), runs on one side δ² ≈ D², which looks like most items differing.</summary>
    const double MaxScatteredDensity = 0.25;

    readonly NativeTuning _tuning;

    readonly double _slicesPerDifference;

    FanoutEstimator(NativeTuning tuning, double slicesPerDifference, double density, bool confirmed)
    {
        _tuning = tuning;
        _slicesPerDifference = slicesPerDifference;
        Density = density;
        Confirmed = confirmed;
    }

    /// <summary>Independent differences per item in the frame's differing nodes; NaN with too little to go on.</summary>
    public double Density { get; }

    /// <summary>Whether <see cref="Density"/> was confirmed by agreeing siblings.</summary>
    public bool Confirmed { get; }

    /// <summary>The estimate for the nodes of one frame.</summary>
    /// <remarks>
    /// Best evidence: in a split into m non-empty slices of which z agree, the differences fell into about
    /// m·ln(m/z) independent places (Poisson), whatever their sizes — a run of 100 items missing on one side counts once,
    /// which is what splitting must isolate. Without agreeing siblings (the first levels), δ² of a node is the estimate:
    /// E[δ²] = D when each difference is equally likely on either side, but δ² ≈ D² when they cluster on one side (a peer
    /// offline for an hour), so each node's δ²/count is capped at 8 × the frame's median before pooling and splits based
    /// on it are capped (<see cref="NativeTuning.UnconfirmedFanoutCap"/>); spec/sync.md §3.5 has the measurements.
    /// </remarks>
    public static FanoutEstimator Of(Survey survey, NativeTuning tuning, double slicesPerDifference)
    {
        if (tuning.AgreementDensity && survey.Unsaturated >= 16 && survey.Unsaturated >= survey.Saturated && survey.ClusterItems > 0)
            return new(tuning, slicesPerDifference, survey.Clusters / survey.ClusterItems, true);
        int k = survey.Mismatched;
        if (k < 8) return new(tuning, slicesPerDifference, double.NaN, false);
        // The median of up to 1024 evenly spaced samples is plenty for a cap.
        int samples = Math.Min(k, 1024);
        var ratios = new double[samples];
        for (int i = 0; i < samples; i++)
        {
            int j = (int)((long)i * k / samples);
            ratios[i] = survey.Squares[j] / survey.Sizes[j];
        }
        Array.Sort(ratios);
        double cap = 8 * ratios[samples / 2];
        double squares = 0, sizes = 0;
        for (int i = 0; i < k; i++)
        {
            double size = survey.Sizes[i];
            squares += Math.Min(survey.Squares[i], cap * size);
            sizes += size;
        }
        // Every large node's δ² saying that a quarter of its items differ is runs missing on one side (a few places each), not
        // scattered differences: with no agreeing sibling to tell, split moderately and let the next frame pool better (as with
        // fewer than 8 nodes; the density gate reads it as sparse). At 10^6 / 1 % in runs of 100 with every Open slice holding a
        // run, the δ² estimate cut each slice 8,192 ways: 4.6 × the bound instead of 0.15 × (spec/sync.md §3.2 rule 6).
        if (squares / sizes > MaxScatteredDensity && sizes >= (double)k * tuning.LargeNode) return new(tuning, slicesPerDifference, double.NaN, false);
        return new(tuning, slicesPerDifference, squares / sizes, false);
    }

    /// <summary>Differences expected in a differing node of <paramref name="size"/> items (NaN: nothing to go on).</summary>
    public double Expected(long size)
    {
        if (double.IsNaN(Density)) return double.NaN;
        double lambda = Density * size;
        if (!Confirmed) return lambda;
        return lambda < 1e-9 ? 1 : lambda / (1 - Math.Exp(-lambda));
    }

    /// <summary>The fan-out for a node where we hold <paramref name="cL"/> items and the peer <paramref name="cR"/>;
    /// below 2 when <paramref name="budget"/> (nodes the frame may still open) leaves no room for children.</summary>
    /// <param name="maxChildItems">Largest child the frame plan allows (0: no plan), so that a node is small enough to be
    /// listed by the closing frame whatever the estimate said.</param>
    public long Fanout(long cL, long cR, UInt128 span, int budget, long maxChildItems = 0)
    {
        long size = Math.Max(cL, cR);
        long m;
        if (_tuning.FixedFanout > 0) m = _tuning.FixedFanout;
        else
        {
            double delta = Math.Abs(cR - cL), expected;
            // A node differing by δ in count holds at least |δ| differences, but they may be one run missing on one side (one
            // place to isolate): with evidence from agreeing siblings, or with too few nodes to pool, δ counts for at most 8.
            double floor = delta;
            if (double.IsNaN(Density))
            {
                // One node's δ² says little (δ² ≈ D² for a run on one side): a moderate split, the next frame pools better.
                expected = Math.Min(Math.Max(delta * delta, 2), FewNodesDifferences);
                floor = Math.Min(delta, FewNodesDifferences);
            }
            else if (Confirmed)
            {
                // Places expected in a node known to differ: λ / (1 − e^−λ) for λ expected over all nodes of its size.
                double lambda = Density * size;
                expected = lambda < 1e-9 ? 1 : lambda / (1 - Math.Exp(-lambda));
                floor = Math.Min(delta, FewNodesDifferences);
            }
            else expected = Density * size;
            double slices = !Confirmed && !double.IsNaN(Density) && _tuning.UnconfirmedSlicesPerDifference > 0 ? _tuning.UnconfirmedSlicesPerDifference : _slicesPerDifference;
            // A peer's count may be anything up to 2^63 − 1: the arithmetic saturates at the largest fan-out before any cast.
            m = (long)Math.Min(Math.Ceiling(slices * Math.Max(expected, floor)), NativeReconciliation.MaxFanout);
            if (!Confirmed) m = Math.Min(m, _tuning.UnconfirmedFanoutCap);
            if (size >= _tuning.LargeNode) m = Math.Max(m, _tuning.MinFanoutLarge);
            if (maxChildItems > 0) m = Math.Max(m, (long)Math.Min(Math.Ceiling((double)size / maxChildItems), NativeReconciliation.MaxFanout));
        }
        m = Math.Clamp(m, 2, size >= NativeReconciliation.MaxFanout ? NativeReconciliation.MaxFanout : Math.Max(2, 2 * size));
        if ((UInt128)m > span) m = (long)span;
        return Math.Min(m, budget);
    }
}
