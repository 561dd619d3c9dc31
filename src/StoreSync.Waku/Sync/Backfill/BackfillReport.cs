namespace StoreSync.Waku.Sync.Backfill;

/// <summary>One peer's part in a swarm backfill: what it brought, the slices it has done, its failed attempts, whether it left.</summary>
public sealed record BackfillPeerReport(string Peer, long Messages, long Bytes, int SlicesDone, int Failures, bool Gone);

/// <summary>A swarm backfill's progress at one moment (log lines, metrics, dashboard, CLI progress bar).</summary>
/// <remarks>Remaining is an estimate: the density of the slices fetched so far times the width of those not fetched yet, plus
/// what running sessions announced and has not arrived; null until a slice is fetched.</remarks>
public sealed record BackfillReport
{
    /// <summary>What is filled: a community's name or a pubsub topic.</summary>
    public required string Name { get; init; }
    public long Messages { get; init; }
    public long Bytes { get; init; }
    public long? RemainingMessages { get; init; }
    public long? RemainingBytes { get; init; }
    public double MessagesPerSecond { get; init; }
    public double BytesPerSecond { get; init; }
    public TimeSpan Elapsed { get; init; }
    public int SlicesDone { get; init; }
    public int Slices { get; init; }
    public IReadOnlyList<BackfillPeerReport> Peers { get; init; } = [];
    public bool Finished { get; init; }

    /// <summary>Done so far, 0–1: by messages once the remainder can be estimated, else by slices.</summary>
    public double Fraction => Finished ? 1
        : RemainingMessages is { } left && Messages + left > 0 ? (double)Messages / (Messages + left)
        : Slices == 0 ? 0 : (double)SlicesDone / Slices;

    /// <summary>Time left at the current rate; null while unknown.</summary>
    public TimeSpan? Eta => Finished ? TimeSpan.Zero
        : RemainingMessages is { } left && MessagesPerSecond > 0 ? TimeSpan.FromSeconds(Math.Min(left / MessagesPerSecond, TimeSpan.MaxValue.TotalSeconds / 2)) : null;

    public override string ToString() =>
        $"{Name}: {Messages} messages ({Bytes} B) fetched, {(RemainingMessages is { } m ? $"~{m} messages (~{RemainingBytes} B)" : "unknown")} remaining, "
        + $"{MessagesPerSecond:0} msg/s ({BytesPerSecond / 1e6:0.00} MB/s), ETA {(Eta is { } e ? $"{e.TotalSeconds:0} s" : "unknown")}, "
        + $"slices {SlicesDone}/{Slices}; per peer: {string.Join(", ", Peers.Select(p => $"{p.Peer} {p.Messages} messages {p.Bytes} B {p.SlicesDone} slices{(p.Failures > 0 ? $" {p.Failures} failed" : "")}{(p.Gone ? " (gone)" : "")}"))}";
}

/// <summary>The node's running and finished backfills by name, for metrics and the dashboard.</summary>
public sealed class BackfillRegistry
{
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, BackfillReport> _reports = new(StringComparer.Ordinal);

    public void Update(BackfillReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _reports[report.Name] = report;
    }

    /// <summary>The latest report of each backfill, by name.</summary>
    public IReadOnlyList<BackfillReport> Reports => [.. _reports.Values.OrderBy(r => r.Name, StringComparer.Ordinal)];
}
