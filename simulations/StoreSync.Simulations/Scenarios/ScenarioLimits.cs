namespace StoreSync.Simulations.Scenarios;

/// <summary>Bounds on what one scenario may ask for, so a bad file fails fast instead of running for days or exhausting memory.</summary>
public static class ScenarioLimits
{
    public const int MaxNodes = 10_000;
    public const int MaxCommunities = 64;
    public const int MaxGroups = 256;
    /// <summary>Expected messages over the whole run (every node's items live in memory: 10^7 × 100 nodes × 40 B = 40 GB).</summary>
    public const double MaxMessages = 10_000_000;
    /// <summary>Expected items held over all nodes (messages × nodes storing them).</summary>
    public const double MaxHeldItems = 2_000_000_000;
    /// <summary>Expected sync sessions over the run (each costs at least a few microseconds).</summary>
    public const double MaxSessions = 50_000_000;
    public const long MaxDuration = 3650L * 86_400_000_000_000;
    public const long MinSampleEvery = 1_000_000;
    public const int MaxSamples = 100_000;
    /// <summary>Waku's message size limit (150 KiB) also bounds simulated payloads.</summary>
    public const int MaxMessageSize = 150 * 1024;
    public const int MaxSweepVariants = 256;
    public const int MaxNameLength = 80;
    /// <summary>RocksDB runs keep a database per node open at once.</summary>
    public const int MaxRocksDbNodes = 200;
}
