using System.CommandLine;
using StoreSync.Storage;

namespace StoreSync.Node.Cli;

/// <summary><c>storesync check</c>: verifies every index, counter and hash of the local store.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var command = new Command("check", "Verify the store: every message re-hashed, indexes and counters consistent (exit code 1 if not)");
        command.SetAction(parse =>
        {
            using var store = MessageStore.Open(parse.GetValue(CliOptions.DataDir)!.FullName);
            var problems = StoreIntegrity.Check(store);
            foreach (var p in problems) Console.WriteLine($"problem: {p}");
            var stats = store.GetStatistics();
            Console.WriteLine(problems.Count == 0
                ? $"ok: {stats.Messages} messages, {stats.Bytes} bytes, indexes and counters consistent"
                : $"{problems.Count}{(problems.Count == StoreIntegrity.MaxProblems ? "+" : "")} problems found");
            return problems.Count == 0 ? 0 : 1;
        });
        return command;
    }
}
