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
        $"{Pct(r.MeanOnlineComplete)} | {Time(r.SpreadAllP50)} / {Time(r.SpreadAllP95)} | {r.WallSeconds.ToString("0.0", Invariant)} s |";

    static string Converge(RunResult r, long? t) => r.PublishEnd >= r.Duration ? "n/a" : Time(t);

    public static string Table(IEnumerable<RunResult> runs) =>
        TableHeader + "\n" + string.Join("\n", runs.Select(TableRow)) + "\n";

    public const string CsvHeader =
        "scenario,nodes,published,recoverable,unrecoverable,received_live,lost_on_ingest,delivered_by_sync,duplicate_transfers,recon_bytes,transfer_bytes," +
        "sync_bytes,bytes_per_delivered,sessions,round_trips,failed_exchanges,session_errors,time_to_99_s,time_to_100_s,final_complete_fraction," +
        "mean_online_complete,spread_99_p50_s,spread_99_p95_s,spread_all_p50_s,spread_all_p95_s,reached_all_fraction,mean_online_fraction";

    static string S(long? nanos) => nanos is long n ? Csv.Seconds(n) : "";

    public static string CsvRow(RunResult r) => string.Join(',',
        r.Name, Csv.N(r.Nodes), Csv.N(r.Published), Csv.N(r.Recoverable), Csv.N(r.Unrecoverable), Csv.N(r.ReceivedLive),
        Csv.N(r.LostOnIngest), Csv.N(r.DeliveredBySync), Csv.N(r.DuplicateTransfers), Csv.N(r.ReconBytes), Csv.N(r.TransferBytes), Csv.N(r.SyncBytes),
        Csv.D(r.BytesPerDelivered), Csv.N(r.Sessions), Csv.N(r.RoundTrips), Csv.N(r.FailedExchanges), Csv.N(r.SessionErrors),
        S(r.TimeTo99), S(r.TimeTo100), Csv.D(r.FinalCompleteFraction), Csv.D(r.MeanOnlineComplete), S(r.SpreadMostP50),
        S(r.SpreadMostP95), S(r.SpreadAllP50), S(r.SpreadAllP95), Csv.D(r.ReachedAllFraction), Csv.D(r.MeanOnlineFraction));

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

    /// <summary>Bandwidth against convergence time, one labelled point per run (runs that never reached 99 % are left out).</summary>
    public static string TradeoffPlot(string title, IReadOnlyList<RunResult> runs, Func<RunResult, string> label)
    {
        var chart = new SvgChart { Title = title, XLabel = "sync traffic over the run (MB, all nodes)", YLabel = "time to 99 % of nodes complete (hours)", XMin = 0 };
        int i = 0;
        foreach (var r in runs)
        {
            if (r.TimeTo99 is not long t) continue;
            chart.Points.Add((r.SyncBytes / 1e6, t / 3.6e12, label(r), SvgChart.Palette[i++ % 8]));
        }
        return chart.Render();
    }

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
        md.Append($"# {title}\n\n").Append(Table(runs)).Append('\n');
        File.WriteAllText(Path.Combine(folder, "summary.md"), md.ToString());
        File.WriteAllText(Path.Combine(folder, "summary.csv"), CsvHeader + "\n" + string.Join("\n", runs.Select(CsvRow)) + "\n");
        File.WriteAllText(Path.Combine(folder, "comparison.svg"), ComparisonPlot(title, runs, onlineToo: runs.Count <= 3));
        if (runs.Count > 1)
            File.WriteAllText(Path.Combine(folder, "tradeoff.svg"),
                TradeoffPlot($"{title}: bandwidth vs convergence", runs, r => r.Name.Contains('_') ? r.Name[(r.Name.IndexOf('_') + 1)..] : r.Name));
    }
}
