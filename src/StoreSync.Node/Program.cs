using System.CommandLine;
using StoreSync.Node.Cli;

namespace StoreSync.Node;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("StoreSync: a Waku store node that keeps a community's full message history")
        {
            CliOptions.DataDir,
            NodeCommand.Create(),
            ImportCommand.Create(),
            QueryCommand.Create(),
            StatsCommand.Create(),
            CheckCommand.Create(),
            CommunityCommand.Create(),
            BackfillCommand.Create(),
        };
        try
        {
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var error in parsed.Errors) Console.Error.WriteLine($"storesync: {error.Message}");
                Console.Error.WriteLine("storesync: see 'storesync --help'");
                return 2;
            }
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (CliUsageException e)
        {
            Console.Error.WriteLine($"storesync: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("storesync: cancelled");
            return 130;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A command that fails reports why in one line; the stack trace helps nobody running the CLI.
            Console.Error.WriteLine($"storesync: error: {e.Message}");
            return 1;
        }
    }
}
