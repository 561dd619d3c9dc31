namespace StoreSync.Node.Governor;

/// <summary>The resource governor's constants in one place.</summary>
public static class GovernorLimits
{
    /// <summary>A quarter of a second of the rate may go at once: small enough to keep a desktop's link usable, large
    /// enough that one Store page of small messages goes without pacing.</summary>
    public const double DefaultBurstSeconds = 0.25;
    public const double MinBurstSeconds = 0.01, MaxBurstSeconds = 60;

    /// <summary>Largest limit accepted (1 TiB/s): far above any link, and keeps the bucket arithmetic far from overflow.</summary>
    public const long MaxBytesPerSecond = 1L << 40;

    /// <summary>Smallest non-zero limit (1 KiB/s): below it one full Store page would take hours.</summary>
    public const long MinBytesPerSecond = 1024;

    /// <summary>Traffic history kept for the dashboard: one sample per second for five minutes per scope.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(1);
    public const int SamplesKept = 300;

    /// <summary>Most per-community accounts: bounds memory whatever names appear in configuration or REST calls.</summary>
    public const int MaxCommunityAccounts = 256;
}
