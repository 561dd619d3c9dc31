namespace StoreSync.Benchmarks;

/// <summary>Benchmarks by name: <c>dotnet run -c Release --project tests/StoreSync.Benchmarks -- NAME [options]</c>.</summary>
public static class Program
{
    static readonly Dictionary<string, Func<string[], Task<int>>> Benchmarks = new(StringComparer.OrdinalIgnoreCase)
    {
        ["storage"] = args => Task.FromResult(StorageBenchmark.Run(args)),
        ["libp2p"] = Libp2pBenchmark.RunAsync,
        ["secure-channel"] = SecureChannelBenchmark.RunAsync,
        ["sync"] = args => Task.FromResult(SyncBenchmark.Run(args)),
        ["store-load"] = StoreLoadBenchmark.RunAsync,
        ["syncnet"] = SyncNetBenchmark.RunAsync,
        ["backfill"] = BackfillBenchmark.RunAsync,
        ["syncindex"] = args => Task.FromResult(SyncIndexBenchmark.Run(args)),
        ["retention"] = args => Task.FromResult(RetentionBenchmark.Run(args)),
        ["index"] = args => Task.FromResult(FingerprintIndexBenchmark.Run(args)),
        ["communities"] = args => Task.FromResult(CommunityBenchmark.Run(args)),
        ["bandwidth"] = BandwidthBenchmark.RunAsync,
        ["import-file"] = args => Task.FromResult(ImportFileBenchmark.Run(args)),
        ["rocksdb-floor"] = args => Task.FromResult(RocksDbFloorBenchmark.Run(args)),
        ["relay"] = RelayBenchmark.RunAsync,
        ["discv5-flood"] = Discv5FloodBenchmark.RunAsync,
        ["relay-node"] = RelayNodeProcess.RunChildAsync, // the relay benchmark's node under test (its child process)
    };

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || !Benchmarks.TryGetValue(args[0], out var run))
        {
            Console.Error.WriteLine($"usage: StoreSync.Benchmarks {{{string.Join('|', Benchmarks.Keys)}}} [options]");
            return 2;
        }
        return await run(args[1..]);
    }
}
