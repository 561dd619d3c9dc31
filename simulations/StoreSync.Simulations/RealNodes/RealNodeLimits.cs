namespace StoreSync.Simulations.RealNodes;

/// <summary>Bounds of a real-nodes run: it starts real processes on this machine, so count and time are kept small.</summary>
public static class RealNodeLimits
{
    public const int MaxNodes = 10;

    /// <summary>Messages pushed over the run (each is one REST request per live receiver).</summary>
    public const int MaxMessages = 5_000;

    /// <summary>Longest run on the wall clock (the scenario's duration divided by the speed-up).</summary>
    public static readonly TimeSpan MaxWallDuration = TimeSpan.FromMinutes(20);

    /// <summary>The node takes whole seconds for its sync interval.</summary>
    public static readonly TimeSpan MinSyncInterval = TimeSpan.FromSeconds(1);

    public const double MinSpeedup = 1;
    public const double MaxSpeedup = 3_600;

    /// <summary>Fastest sampling of the nodes' stores (each sample is one GET /health per online node).</summary>
    public static readonly TimeSpan MinSampleEvery = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a node may take to answer /health after its process starts.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long a node may take to exit after SIGTERM before it is killed (its drain alone may take 8 s).</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(20);

    /// <summary>One REST call (push, health, metrics, a store page).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Largest node log kept per node (the rest is dropped, the run goes on).</summary>
    public const long MaxLogBytes = 16L << 20;

    /// <summary>Store pages read per node at the final hash check (100 hashes a page).</summary>
    public const int MaxStorePages = MaxMessages / 100 + 10;
}
