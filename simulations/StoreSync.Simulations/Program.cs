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

        var run = new Command("run", "Run scenarios and write CSV time series, SVG plots and a summary table") { files, output, seed, set, title, quiet };
        run.SetAction(parse =>
        {
            var paths = parse.GetValue(files)!;
            var overrides = (parse.GetValue(set) ?? []).ToList();
            if (parse.GetValue(seed) is ulong s) overrides.Add($"seed={s}");
            var scenarios = paths.SelectMany(f => ScenarioLoader.LoadFile(f.FullName, overrides)).ToList();
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

        var root = new RootCommand("storesync-sim: how fast a community's history converges across intermittently-online store nodes (simulations/README.md)")
        {
            run, validate,
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
