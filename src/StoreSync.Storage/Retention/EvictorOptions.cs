namespace StoreSync.Storage.Retention;

/// <summary>Settings of an <see cref="Evictor"/>.</summary>
public sealed record EvictorOptions
{
    /// <summary>Largest chunk allowed: one chunk is one WriteBatch and holds the store's write lock while it is planned and written.</summary>
    public const int MaxChunkMessages = 100_000;

    /// <summary>Messages per chunk (one atomic WriteBatch). 1,000 holds the write lock for a few milliseconds.</summary>
    public int ChunkMessages { get; init; } = 1_000;

    /// <summary>Refuse to store a new message at or below its scope's retention horizon (the store-level ingress check).</summary>
    public bool RefuseBelowHorizon { get; init; } = true;

    /// <summary>A running eviction or scope deletion logs its progress at most this often.</summary>
    public TimeSpan ProgressLogInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often <see cref="Evictor.RunAsync"/> applies time policies when no ingest wakes it.</summary>
    public TimeSpan TimePolicyInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The clock of time policies.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        if (ChunkMessages is < 1 or > MaxChunkMessages)
            throw new ArgumentOutOfRangeException(nameof(ChunkMessages), ChunkMessages, $"between 1 and {MaxChunkMessages}");
        if (ProgressLogInterval < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ProgressLogInterval), ProgressLogInterval, "not negative");
        if (TimePolicyInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TimePolicyInterval), TimePolicyInterval, "positive");
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
