namespace StoreSync.Benchmarks;

/// <summary>Benchmarks by name: <c>dotnet run -c Release --project tests/StoreSync.Benchmarks -- NAME [options]</c>.</summary>
public static class Program
{
    static readonly Dictionary<string, Func<string[], int>> Benchmarks = new(StringComparer.OrdinalIgnoreCase)
    {
        ["storage"] = StorageBenchmark.Run,
        ["sync"] = SyncBenchmark.Run,
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Benchmarks.TryGetValue(args[0], out var run))
        {
            Console.Error.WriteLine($"usage: StoreSync.Benchmarks {{{string.Join('|', Benchmarks.Keys)}}} [options]");
            return 2;
        }
        return run(args[1..]);
    }
}
