namespace StoreSync.Simulations.Model;

/// <summary>One row of the time series: the state of the whole network at a sample instant.</summary>
public sealed record SampleRow(
    long Time, long Published, long Recoverable, long Unrecoverable, int Online, int Complete, int OnlineComplete, int Nodes,
    double MissingMean, long MissingMax, long ReconBytes, long TransferBytes, long Sessions, long RoundTrips, long DeliveredBySync)
{
    public double CompleteFraction => Nodes == 0 ? 0 : (double)Complete / Nodes;
    public double OnlineCompleteFraction => Online == 0 ? 0 : (double)OnlineComplete / Online;
    public double OnlineFraction => Nodes == 0 ? 0 : (double)Online / Nodes;
    public long SyncBytes => ReconBytes + TransferBytes;
}

/// <summary>What a run measured, for the summary table.</summary>
public sealed record RunResult
{
    public required string Name { get; init; }
    /// <summary>The replicated scenario's name when this run is one seed of several.</summary>
    public string? Family { get; init; }
    public required int Nodes { get; init; }
    public required long Duration { get; init; }
    public required long PublishEnd { get; init; }
    public required long Published { get; init; }
    public required long Recoverable { get; init; }
    /// <summary>Messages no node stored live (everyone offline or lost on ingest): gone for good.</summary>
    public required long Unrecoverable { get; init; }
    public required long ReceivedLive { get; init; }
    public required long LostOnIngest { get; init; }
    public required long DeliveredBySync { get; init; }
    /// <summary>Transferred messages the receiver already had by the time they arrived (wasted transfer bytes).</summary>
    public required long DuplicateTransfers { get; init; }
    public required long ReconBytes { get; init; }
    public required long TransferBytes { get; init; }
    public required long Sessions { get; init; }
    public required long RoundTrips { get; init; }
    public required long FailedExchanges { get; init; }
    public required long SessionErrors { get; init; }
    /// <summary>Time from the end of publishing until 99 % / all nodes held every recoverable message (null: never within the run).</summary>
    public required long? TimeTo99 { get; init; }
    public required long? TimeTo100 { get; init; }
    public required double FinalCompleteFraction { get; init; }
    /// <summary>Mean over samples of the fraction of online nodes holding the complete history (what a light client sees).</summary>
    public required double MeanOnlineComplete { get; init; }
    /// <summary>Median / 95th percentile delay from publication to 99 % of nodes and to all nodes (null if fewer than half got there).</summary>
    public required long? SpreadMostP50 { get; init; }
    public required long? SpreadMostP95 { get; init; }
    public required long? SpreadAllP50 { get; init; }
    public required long? SpreadAllP95 { get; init; }
    public required double ReachedAllFraction { get; init; }
    /// <summary>False for a real-nodes run: per-message spread is not observed there (only store counts are sampled).</summary>
    public bool SpreadsMeasured { get; init; } = true;
    public required double MeanOnlineFraction { get; init; }
    /// <summary>Fraction of the run with no node online at all (exact, from the schedule).</summary>
    public required double NoneOnlineFraction { get; init; }
    public required long Events { get; init; }
    public required double WallSeconds { get; init; }
    public required IReadOnlyList<SampleRow> Series { get; init; }

    public long SyncBytes => ReconBytes + TransferBytes;

    public double BytesPerDelivered => DeliveredBySync == 0 ? 0 : (double)SyncBytes / DeliveredBySync;
}
