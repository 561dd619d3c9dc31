using System.Diagnostics;

namespace StoreSync.Node.Governor;

/// <summary>The governor's figures as JSON-ready objects (<c>GET /admin/v1/figures</c>, spec/node.md): bandwidth, CPU,
/// memory of caches and sync state, for the node and per community, with the recent traffic for the dashboard's graphs.</summary>
public sealed class FiguresReport(ResourceGovernor governor, IEnumerable<IFiguresSource> sources)
{
    public object Build()
    {
        var extra = sources.ToList();
        var process = Process.GetCurrentProcess();
        return new
        {
            timeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            sampleIntervalSeconds = GovernorLimits.SampleInterval.TotalSeconds,
            cpuSupported = governor.CpuSupported,
            process = new
            {
                cpuSeconds = process.TotalProcessorTime.TotalSeconds,
                workingSetBytes = process.WorkingSet64,
                gcHeapBytes = GC.GetTotalMemory(false),
            },
            global = Account(governor.Global, extra, null),
            communities = governor.CommunityAccounts.Select(a => Account(a, extra, a.Community)).ToList(),
        };
    }

    static object Account(TrafficAccount a, List<IFiguresSource> extra, string? community)
    {
        var cpu = a.Cpu;
        var figures = new Dictionary<string, object?>
        {
            ["name"] = community,
            ["upload"] = Direction(a.Upload, a.UploadSeries),
            ["download"] = Direction(a.Download, a.DownloadSeries),
            ["cpu"] = new { totalSeconds = cpu.Values.Sum() / 1e9, byProtocol = cpu.ToDictionary(kv => kv.Key, kv => kv.Value / 1e9) },
        };
        foreach (var source in extra)
            foreach (var (key, value) in source.Figures(community)) figures[key] = value;
        return figures;
    }

    static object Direction(Libp2p.Bandwidth.TokenBucket bucket, TrafficSeries series) => new
    {
        limitBytesPerSecond = bucket.BytesPerSecond,
        burstBytes = bucket.BurstBytes,
        historyBytes = bucket.PacedBytes,
        realtimeBytes = bucket.RealtimeBytes,
        bytesPerSecond = series.Snapshot(),
    };
}

/// <summary>More figures for the report (sync state, cache memory), from parts of the node the governor does not own.</summary>
public interface IFiguresSource
{
    /// <summary>Named figures of the node (<paramref name="community"/> null) or of one community; keys become JSON properties.</summary>
    IEnumerable<KeyValuePair<string, object?>> Figures(string? community);
}
