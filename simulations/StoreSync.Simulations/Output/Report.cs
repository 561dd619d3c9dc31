using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using StoreSync.Simulations.Model;
using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations.Output;

/// <summary>The human outputs of runs: the summary table (markdown and CSV) and the SVG plots.</summary>
internal static class Report
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    static string Time(long? nanos) => nanos is long n ? Units.Format(n) : "never";

    static string Mb(long bytes) => (bytes / 1e6).ToString(bytes >= 1e8 ? "N0" : "N1", Invariant);

    static string Pct(double f) => (100 * f).ToString("0.#", Invariant) + " %";

    public const string TableHeader =
        "| scenario | nodes | published | lost everywhere | delivered by sync | duplicate transfers | sync MB | bytes / delivered | sessions | → 99 % complete | → 100 % complete | online nodes complete (mean) | spread to all: p50 / p95 | wall |\n" +
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

    public static string TableRow(RunResult r) =>
        $"| {r.Name} | {r.Nodes} | {r.Published:N0} | {r.Unrecoverable:N0} | {r.DeliveredBySync:N0} | {r.DuplicateTransfers:N0} | {Mb(r.SyncBytes)} | " +
        $"{r.BytesPerDelivered.ToString("N0", Invariant)} | {r.Sessions:N0} | {Converge(r, r.TimeTo99)} | {Converge(r, r.TimeTo100)} | " +
        $"{Pct(r.MeanOnlineComplete)} | {(r.SpreadsMeasured ? $"{Time(r.SpreadAllP50)} / {Time(r.SpreadAllP95)}" : "–")} | {r.WallSeconds.ToString("0.0", Invariant)} s |";

    static string Converge(RunResult r, long? t) => r.PublishEnd >= r.Duration ? "n/a" : Time(t);

    public static string Table(IEnumerable<RunResult> runs) =>
        TableHeader + "\n" + string.Join("\n", runs.Select(TableRow)) + "\n";

    public const string CsvHeader =
        "scenario,nodes,published,recoverable,unrecoverable,received_live,lost_on_ingest,delivered_by_sync,duplicate_transfers,recon_bytes,transfer_bytes," +
        "sync_bytes,bytes_per_delivered,sessions,round_trips,failed_exchanges,session_errors,time_to_99_s,time_to_100_s,final_complete_fraction," +
        "mean_online_complete,spread_99_p50_s,spread_99_p95_s,spread_all_p50_s,spread_all_p95_s,reached_all_fraction,mean_online_fraction,none_online_fraction";

    static string S(long? nanos) => nanos is long n ? Csv.Seconds(n) : "";

    public static string CsvRow(RunResult r) => string.Join(',',
        r.Name, Csv.N(r.Nodes), Csv.N(r.Published), Csv.N(r.Recoverable), Csv.N(r.Unrecoverable), Csv.N(r.ReceivedLive),
        Csv.N(r.LostOnIngest), Csv.N(r.DeliveredBySync), Csv.N(r.DuplicateTransfers), Csv.N(r.ReconBytes), Csv.N(r.TransferBytes), Csv.N(r.SyncBytes),
        Csv.D(r.BytesPerDelivered), Csv.N(r.Sessions), Csv.N(r.RoundTrips), Csv.N(r.FailedExchanges), Csv.N(r.SessionErrors),
        S(r.TimeTo99), S(r.TimeTo100), Csv.D(r.FinalCompleteFraction), Csv.D(r.MeanOnlineComplete), S(r.SpreadMostP50),
        S(r.SpreadMostP95), S(r.SpreadAllP50), S(r.SpreadAllP95), r.SpreadsMeasured ? Csv.D(r.ReachedAllFraction) : "", Csv.D(r.MeanOnlineFraction),
        Csv.D(r.NoneOnlineFraction));

    /// <summary>Hours for runs up to two days, days beyond.</summary>
    static (double Scale, string Unit) TimeAxis(long duration) => duration <= 2 * 86_400_000_000_000L ? (3.6e12, "hours") : (8.64e13, "days");

    public static string ConvergencePlot(RunResult r)
    {
        var (scale, unit) = TimeAxis(r.Duration);
        var chart = new SvgChart
        {
            Title = $"{r.Name}: convergence ({r.Nodes} nodes)", XLabel = $"time ({unit})", YLabel = "fraction", YMin = 0, YMax = 1, XMin = 0,
        };
        chart.Lines.Add(new("nodes with the complete history", SvgChart.Palette[0], r.Series.Select(s => (s.Time / scale, s.CompleteFraction)).ToList()));
        chart.Lines.Add(new("online nodes with the complete history", SvgChart.Palette[1], r.Series.Select(s => (s.Time / scale, s.OnlineCompleteFraction)).ToList()));
        chart.Lines.Add(new("nodes online", SvgChart.Palette[8], r.Series.Select(s => (s.Time / scale, s.OnlineFraction)).ToList(), Dashed: true));
        if (r.PublishEnd < r.Duration) chart.Markers.Add(new(r.PublishEnd / scale, "publishing stops"));
        return chart.Render();
    }

    public static string ComparisonPlot(string title, IReadOnlyList<RunResult> runs, bool onlineToo)
    {
        long duration = runs.Max(r => r.Duration);
        var (scale, unit) = TimeAxis(duration);
        var chart = new SvgChart { Title = title, XLabel = $"time ({unit})", YLabel = "fraction of nodes with the complete history", YMin = 0, YMax = 1, XMin = 0, LegendBottomRight = true };
        for (int i = 0; i < runs.Count; i++)
        {
            string color = SvgChart.Palette[i % SvgChart.Palette.Length];
            chart.Lines.Add(new(runs[i].Name, color, runs[i].Series.Select(s => (s.Time / scale, s.CompleteFraction)).ToList()));
            if (onlineToo)
                chart.Lines.Add(new($"{runs[i].Name} (online nodes)", color, runs[i].Series.Select(s => (s.Time / scale, s.OnlineCompleteFraction)).ToList(), Dashed: true));
        }
        foreach (var end in runs.Where(r => r.PublishEnd < r.Duration).Select(r => r.PublishEnd).Distinct())
            chart.Markers.Add(new(end / scale, "publishing stops"));
        return chart.Render();
    }

    /// <summary>Bandwidth against a result. A two-key sweep draws one line per value of the second key through the
    /// values of the first (labelled); otherwise one labelled point per run. Runs without a value are left out.</summary>
    public static string TradeoffPlot(string title, string yLabel, IReadOnlyList<RunResult> runs, Func<RunResult, double?> y, bool logY = false, double? yMax = null)
    {
        var chart = new SvgChart { Title = title, XLabel = "sync traffic over the run (MB, all nodes)", YLabel = yLabel, YMax = yMax, LogY = logY, ZeroBasedY = false, LegendBottomRight = !logY };
        var keyed = runs.Select(r => (Run: r, Values: SweepValues(r))).ToList();
        if (keyed.All(k => k.Values.Count == 2))
        {
            string second = SweepKeys(runs[0])[1];
            int i = 0;
            foreach (var line in keyed.GroupBy(k => k.Values[1]))
            {
                string color = SvgChart.Palette[i++ % 8];
                var points = line.Where(k => y(k.Run) is double).Select(k => (k.Run.SyncBytes / 1e6, y(k.Run)!.Value)).ToList();
                chart.Lines.Add(new($"{second} = {line.Key}", color, points, Markers: true));
                foreach (var k in line.Where(k => y(k.Run) is double))
                    chart.Points.Add((k.Run.SyncBytes / 1e6, y(k.Run)!.Value, k.Values[0], color));
            }
            return chart.Render();
        }
        int c = 0;
        foreach (var (r, values) in keyed)
            if (y(r) is double value) chart.Points.Add((r.SyncBytes / 1e6, value, values.Count > 0 ? string.Join(" · ", values) : r.Name, SvgChart.Palette[c++ % 8]));
        return chart.Render();
    }

    // "tradeoff_interval=5m_peers=2" → keys [interval, peers], values [5m, 2].
    static List<string> SweepKeys(RunResult r) => r.Name.Split('_').Skip(1).Where(p => p.Contains('=')).Select(p => p[..p.IndexOf('=')]).ToList();

    static List<string> SweepValues(RunResult r) => r.Name.Split('_').Skip(1).Where(p => p.Contains('=')).Select(p => p[(p.IndexOf('=') + 1)..]).ToList();

    static readonly JsonSerializerOptions ScenarioJson = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };

    /// <summary>Writes a run's summary, plot and resolved scenario into its folder (the CSV files are written while it runs).</summary>
    public static void WriteRun(string folder, Scenario scenario, RunResult r)
    {
        File.WriteAllText(Path.Combine(folder, "convergence.svg"), ConvergencePlot(r));
        File.WriteAllText(Path.Combine(folder, "summary.md"), Table([r]));
        File.WriteAllText(Path.Combine(folder, "summary.csv"), CsvHeader + "\n" + CsvRow(r) + "\n");
        File.WriteAllText(Path.Combine(folder, "scenario.resolved.json"), JsonSerializer.Serialize(scenario, ScenarioJson) + "\n");
    }

    public static void WriteComparison(string folder, string title, IReadOnlyList<RunResult> runs)
    {
        var md = new StringBuilder();
        md.Append($"# {title}\n\n");
        bool replicated = runs.Any(r => r.Family is not null);
        if (replicated) md.Append(FamilyTable(runs)).Append("\nEvery run:\n\n");
        md.Append(Table(runs)).Append('\n');
        File.WriteAllText(Path.Combine(folder, "summary.md"), md.ToString());
        File.WriteAllText(Path.Combine(folder, "summary.csv"), CsvHeader + "\n" + string.Join("\n", runs.Select(CsvRow)) + "\n");
        // One curve per scenario: the first seed of a replicated one (the table gives the spread).
        var shown = runs.GroupBy(r => r.Family ?? r.Name).Select(g => g.First()).ToList();
        File.WriteAllText(Path.Combine(folder, "comparison.svg"), ComparisonPlot(title, shown, onlineToo: shown.Count <= 3));
        if (shown.Count > 1)
        {
            var medians = Medians(runs);
            File.WriteAllText(Path.Combine(folder, "tradeoff.svg"), TradeoffPlot($"{title}: bandwidth vs convergence{LabelKeys(medians[0])}",
                "time to 99 % of nodes complete (minutes, log scale)", medians, r => r.TimeTo99 / 6e10 is double m && m > 0 ? m : null, logY: true));
            File.WriteAllText(Path.Combine(folder, "freshness.svg"), TradeoffPlot($"{title}: bandwidth vs freshness{LabelKeys(medians[0])}",
                "online nodes with the complete history (mean)", medians, r => r.MeanOnlineComplete, yMax: 1));
        }
    }

    static string LabelKeys(RunResult r)
    {
        var keys = SweepKeys(r);
        return keys.Count == 0 ? "" : $" (labels: {keys[0]})";
    }

    /// <summary>One run per scenario for the trade-off plot: a replicated scenario becomes its median traffic and time.</summary>
    static List<RunResult> Medians(IReadOnlyList<RunResult> runs) =>
        runs.GroupBy(r => r.Family ?? r.Name).Select(g => g.Count() == 1 ? g.First() : g.First() with
        {
            Name = g.Key,
            ReconBytes = (long)Median(g.Select(r => (double?)r.ReconBytes))!,
            TransferBytes = (long)Median(g.Select(r => (double?)r.TransferBytes))!,
            TimeTo99 = Median(g.Select(r => (double?)r.TimeTo99)) is double t ? (long)t : null,
            MeanOnlineComplete = Median(g.Select(r => (double?)r.MeanOnlineComplete)) ?? 0,
        }).ToList();

    /// <summary>Median of values where null means "never" (sorted last); null when the median itself is "never".</summary>
    static double? Median(IEnumerable<double?> values)
    {
        var sorted = values.OrderBy(v => v ?? double.PositiveInfinity).ToList();
        return sorted[(sorted.Count - 1) / 2];
    }

    static string Spread(IEnumerable<RunResult> runs, Func<RunResult, double?> value, Func<double?, string> format)
    {
        var list = runs.Select(value).ToList();
        var sorted = list.OrderBy(v => v ?? double.PositiveInfinity).ToList();
        return $"{format(Median(list))} ({format(sorted[0])} – {format(sorted[^1])})";
    }

    /// <summary>Replicated scenarios: the median and range over seeds of the figures that answer the questions.</summary>
    public static string FamilyTable(IEnumerable<RunResult> runs)
    {
        var sb = new StringBuilder();
        sb.Append("Median (min – max) over seeds:\n\n");
        sb.Append("| scenario | seeds | lost everywhere | → 99 % complete | → 100 % complete | online nodes complete (mean) | no node online | spread to all: p50 | spread to all: p95 | sync MB | bytes / delivered |\n");
        sb.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        string T(double? v) => v is double d ? Units.Format((long)d) : "never";
        foreach (var g in runs.GroupBy(r => r.Family ?? r.Name))
        {
            sb.Append($"| {g.Key} | {g.Count()} | {Spread(g, r => r.Unrecoverable, v => $"{v:N0}")} | ");
            sb.Append($"{Spread(g, r => r.PublishEnd >= r.Duration ? null : r.TimeTo99, T)} | {Spread(g, r => r.PublishEnd >= r.Duration ? null : r.TimeTo100, T)} | ");
            sb.Append($"{Spread(g, r => r.MeanOnlineComplete, v => Pct(v ?? 0))} | {Spread(g, r => r.NoneOnlineFraction, v => (100 * (v ?? 0)).ToString("0.###", Invariant) + " %")} | ");
            sb.Append($"{Spread(g, r => r.SpreadAllP50, T)} | {Spread(g, r => r.SpreadAllP95, T)} | ");
            sb.Append($"{Spread(g, r => r.SyncBytes, v => Mb((long)(v ?? 0)))} | {Spread(g, r => r.BytesPerDelivered, v => (v ?? 0).ToString("N0", Invariant))} |\n");
        }
        return sb.ToString();
    }
}
