using StoreSync.Simulations.Engine;
using StoreSync.Simulations.Model;
using StoreSync.Simulations.Output;
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
