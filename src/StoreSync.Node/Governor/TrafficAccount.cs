using System.Collections.Concurrent;
using StoreSync.Libp2p.Bandwidth;

namespace StoreSync.Node.Governor;

/// <summary>The node's or one community's account: its upload and download buckets (which also count its bytes), the CPU
/// time booked to it per protocol, and the recent traffic for the graphs.</summary>
public sealed class TrafficAccount
{
    readonly ConcurrentDictionary<string, long[]> _cpu = new(StringComparer.Ordinal);

    public TrafficAccount(string? community, BandwidthLimitOptions limits, double burstSeconds, TimeProvider clock)
    {
        Community = community;
        BurstSeconds = burstSeconds;
        Upload = new TokenBucket(limits.UploadBytesPerSecond, BurstFor(limits.UploadBytesPerSecond, burstSeconds), clock);
        Download = new TokenBucket(limits.DownloadBytesPerSecond, BurstFor(limits.DownloadBytesPerSecond, burstSeconds), clock);
    }

    /// <summary>null for the node as a whole.</summary>
    public string? Community { get; }

    public double BurstSeconds { get; }
    public TokenBucket Upload { get; }
    public TokenBucket Download { get; }
    public TrafficSeries UploadSeries { get; } = new();
    public TrafficSeries DownloadSeries { get; } = new();

    public static long BurstFor(long bytesPerSecond, double burstSeconds) =>
        Math.Max(TokenBucket.MinBurstBytes, (long)(bytesPerSecond * burstSeconds));

    public void SetLimits(BandwidthLimitOptions limits)
    {
        Upload.SetLimit(limits.UploadBytesPerSecond, BurstFor(limits.UploadBytesPerSecond, BurstSeconds));
        Download.SetLimit(limits.DownloadBytesPerSecond, BurstFor(limits.DownloadBytesPerSecond, BurstSeconds));
    }

    public BandwidthLimitOptions Limits => new() { UploadBytesPerSecond = Upload.BytesPerSecond, DownloadBytesPerSecond = Download.BytesPerSecond };

    public void AddCpu(string protocol, long nanoseconds)
    {
        var cell = _cpu.GetOrAdd(protocol, _ => new long[1]);
        Interlocked.Add(ref cell[0], nanoseconds);
    }

    /// <summary>CPU nanoseconds booked per protocol.</summary>
    public IReadOnlyDictionary<string, long> Cpu => _cpu.ToDictionary(kv => kv.Key, kv => Interlocked.Read(ref kv.Value[0]), StringComparer.Ordinal);

    public void Sample()
    {
        UploadSeries.Sample(Upload.TotalBytes);
        DownloadSeries.Sample(Download.TotalBytes);
    }
}
