using StoreSync.Simulations.Engine;
using StoreSync.Simulations.Model;
using StoreSync.Simulations.Output;
using StoreSync.Simulations.RealNodes;
using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations;

/// <summary>Runs scenarios and writes each run's outputs into a folder of its own, plus a comparison when there are several.</summary>
public static class Runner
{
    /// <summary>Runs one scenario into <paramref name="folder"/> (timeseries.csv, nodes.csv, convergence.svg, summary.*).</summary>
    public static RunResult RunToFolder(Scenario scenario, string folder, bool progress = true, TextWriter? log = null)
    {
        Directory.CreateDirectory(folder);
        var line = progress ? ProgressLine.ForConsole(scenario.Name) : null;
        RunResult result;
        using (var sink = CsvSink.ToFolder(folder))
        using (var simulation = new Simulation(scenario, sink, line is null ? null : line.Report))
            result = simulation.Run();
        Report.WriteRun(folder, scenario, result);
        if (result.SessionErrors > 0)
            (log ?? Console.Error).WriteLine($"{scenario.Name}: warning: {result.SessionErrors} reconciliation sessions failed with a protocol error");
        return result;
    }

    /// <summary>Runs a scenario keeping its CSV output in memory (tests).</summary>
    internal static (RunResult Result, string Series, string Nodes) RunInMemory(Scenario scenario)
    {
        var series = new StringWriter();
        var nodes = new StringWriter();
        RunResult result;
        using (var sink = new CsvSink(series, nodes))
        using (var simulation = new Simulation(scenario, sink))
            result = simulation.Run();
        return (result, series.ToString(), nodes.ToString());
    }

    /// <summary>Runs a scenario in the simulator and then replays its schedule with real node processes:
    /// <c>&lt;out&gt;/&lt;name&gt;/</c> (simulator), <c>&lt;out&gt;/&lt;name&gt;-real/</c> (real nodes) and the comparison in <c>&lt;out&gt;/</c>.</summary>
    public static async Task<(RunResult Simulated, RunResult Real)> RunRealAsync(Scenario scenario, string outFolder, RealRunOptions options,
        TextWriter stdout, CancellationToken ct)
    {
        var errors = RealNodeRun.Check(scenario, options.Speedup);
        if (errors.Count > 0) throw new ScenarioException(scenario.Name, errors);
        Directory.CreateDirectory(outFolder);
        string simFolder = Path.Combine(outFolder, scenario.Name);
        Directory.CreateDirectory(simFolder);
        var plan = new ReplayPlan();
        RunResult simulated;
        MessageCatalog catalog;
        using (var sink = CsvSink.ToFolder(simFolder))
        using (var simulation = new Simulation(scenario, sink, plan: plan))
        {
            simulated = simulation.Run();
            catalog = simulation.Catalog;
        }
        Report.WriteRun(simFolder, scenario, simulated);

        var outcome = await RealNodeRun.RunAsync(scenario, plan, catalog, options, stdout, ct).ConfigureAwait(false);
        var real = outcome.Result;
        string realFolder = Path.Combine(outFolder, real.Name);
        Directory.CreateDirectory(realFolder);
        File.WriteAllText(Path.Combine(realFolder, "timeseries.csv"),
            CsvSink.SeriesHeader + "\n" + string.Join("\n", real.Series.Select(CsvSink.SeriesRow)) + "\n");
        File.WriteAllText(Path.Combine(realFolder, "nodes.csv"), "time_s,node,online,held,missing\n" + string.Join("\n",
            outcome.NodeRows.Select(n => string.Join(',', Csv.Seconds(n.Time), Csv.N(n.Node), n.Online ? "1" : "0", Csv.N(n.Held), Csv.N(n.Missing)))) + "\n");
        Report.WriteRun(realFolder, scenario, real);
        Report.WriteComparison(outFolder, $"{scenario.Name}: simulator vs real nodes (clock ×{options.Speedup:0.##})", [simulated, real]);
        File.AppendAllText(Path.Combine(outFolder, "summary.md"), "Real nodes:\n\n" + string.Concat(outcome.Notes.Select(n => $"- {n}\n")));
        stdout.Write(Report.Table([simulated, real]));
        stdout.WriteLine($"outputs in {Path.GetFullPath(outFolder)}");
        return (simulated, real);
    }

    public static IReadOnlyList<RunResult> RunAll(IReadOnlyList<Scenario> scenarios, string outFolder, string title, bool progress, TextWriter stdout)
    {
        Directory.CreateDirectory(outFolder);
        var results = new List<RunResult>();
        foreach (var scenario in scenarios)
        {
            var r = RunToFolder(scenario, Path.Combine(outFolder, scenario.Name), progress);
            results.Add(r);
        }
        if (results.Count > 1) Report.WriteComparison(outFolder, title, results);
        stdout.Write(Report.Table(results));
        stdout.WriteLine($"outputs in {Path.GetFullPath(outFolder)}");
        return results;
    }
}
