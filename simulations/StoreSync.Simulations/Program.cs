using System.CommandLine;
using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations;

/// <summary><c>storesync-sim</c>: run convergence scenarios on virtual time, or validate scenario files.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var files = new Argument<FileInfo[]>("scenario") { Description = "Scenario files (JSON)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<DirectoryInfo?>("--out", "-o") { Description = "Output folder (default simulations/out/<first scenario's file name>)" };
        var seed = new Option<ulong?>("--seed") { Description = "Override the seed of every scenario" };
        var set = new Option<string[]>("--set") { Description = "Override a field: path=value, e.g. sync.peers=4 or nodeGroups[0].online=0.5 (repeatable)", AllowMultipleArgumentsPerToken = false };
        var title = new Option<string?>("--title") { Description = "Title of the comparison plot and table" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress on stderr" };
        var seeds = new Option<int>("--seeds") { Description = "Run every scenario with this many seeds (seed, seed + 1, …) and summarise the spread", DefaultValueFactory = _ => 1 };

        var run = new Command("run", "Run scenarios and write CSV time series, SVG plots and a summary table") { files, output, seed, seeds, set, title, quiet };
        run.SetAction(parse =>
        {
            var paths = parse.GetValue(files)!;
            var overrides = (parse.GetValue(set) ?? []).ToList();
            if (parse.GetValue(seed) is ulong s) overrides.Add($"seed={s}");
            int replicates = parse.GetValue(seeds);
            if (replicates is < 1 or > ScenarioLimits.MaxSweepVariants)
                throw new ScenarioException("--seeds", [$"--seeds: {replicates} is out of range [1, {ScenarioLimits.MaxSweepVariants}]"]);
            var scenarios = paths.SelectMany(f => ScenarioLoader.LoadFile(f.FullName, overrides)).SelectMany(s => s.Replicates(replicates)).ToList();
            var duplicate = scenarios.GroupBy(x => x.Name).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw new ScenarioException(paths[0].Name, [$"name: two scenarios are named \"{duplicate.Key}\" (their outputs would overwrite each other)"]);
            string stem = Path.GetFileNameWithoutExtension(paths[0].Name);
            string folder = parse.GetValue(output)?.FullName ?? Path.Combine("simulations", "out", stem);
            Runner.RunAll(scenarios, folder, parse.GetValue(title) ?? stem, !parse.GetValue(quiet), Console.Out);
            return 0;
        });

        var validate = new Command("validate", "Check scenario files and print what they expand to") { files, set };
        validate.SetAction(parse =>
        {
            foreach (var f in parse.GetValue(files)!)
                foreach (var s in ScenarioLoader.LoadFile(f.FullName, parse.GetValue(set)))
                    Console.WriteLine($"{f.Name}: {s.Name}: {s.NodeCount} nodes, {s.Communities.Count} communities, ~{s.ExpectedMessages:N0} messages, {Units.Format(s.Duration)}");
            return 0;
        });

        var realFile = new Argument<FileInfo>("scenario") { Description = "One scenario file (JSON; ≤ 10 nodes, ≤ 5,000 messages, no sweep)" };
        var speedup = new Option<double>("--speedup") { Description = "Virtual seconds per wall-clock second (default 60: a simulated hour in a minute)", DefaultValueFactory = _ => 60 };
        var node = new Option<FileInfo?>("--node") { Description = "The node program storesync.dll (default: the one next to storesync-sim)" };
        var keep = new Option<bool>("--keep-data") { Description = "Keep the real nodes' data folders and logs" };
        var real = new Command("real", "Run a scenario in the simulator, then replay it with real `storesync node` processes on 127.0.0.1, and compare")
        {
            realFile, output, seed, set, speedup, node, keep,
        };
        real.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(realFile)!;
            var overrides = (parse.GetValue(set) ?? []).ToList();
            if (parse.GetValue(seed) is ulong s) overrides.Add($"seed={s}");
            var scenarios = ScenarioLoader.LoadFile(file.FullName, overrides);
            if (scenarios.Count != 1) throw new ScenarioException(file.Name, [$"sweep: the real mode runs one scenario, this file expands to {scenarios.Count}"]);
            string folder = parse.GetValue(output)?.FullName ?? Path.Combine("simulations", "out", Path.GetFileNameWithoutExtension(file.Name));
            var options = new RealNodes.RealRunOptions
            {
                Speedup = parse.GetValue(speedup),
                NodeDll = parse.GetValue(node)?.FullName ?? Path.Combine(AppContext.BaseDirectory, "storesync.dll"),
                KeepData = parse.GetValue(keep),
            };
            try
            {
                await Runner.RunRealAsync(scenarios[0], folder, options, Console.Out, ct);
            }
            catch (RealNodes.RealNodeException e)
            {
                Console.Error.WriteLine($"storesync-sim: real nodes: {e.Message}");
                return 1;
            }
            return 0;
        });

        var root = new RootCommand("storesync-sim: how fast a community's history converges across intermittently-online store nodes (simulations/README.md)")
        {
            run, validate, real,
        };
        try
        {
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var error in parsed.Errors) Console.Error.WriteLine($"storesync-sim: {error.Message}");
                return 2;
            }
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (ScenarioException e)
        {
            Console.Error.WriteLine($"storesync-sim: {e.Message}");
            return 2;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"storesync-sim: error: {e.Message}");
            return 1;
        }
    }
}
