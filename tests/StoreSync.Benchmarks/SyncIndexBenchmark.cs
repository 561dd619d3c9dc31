using System.Diagnostics;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Reconciliation;
using StoreSync.Storage;
using StoreSync.Storage.Sync;

namespace StoreSync.Benchmarks;

/// <summary>The sync index at scale through the real store: build from RocksDB (the start-up scan), save at the store's close, load
/// at the next open, and a community scope's index (one content topic of four). <c>syncindex [--messages N] [--dir DIR]</c>; with
/// <c>--dir</c> a store filled by an earlier run is reused (and kept).</summary>
public static class SyncIndexBenchmark
{
    const string Topic = "/waku/2/rs/1/0";
    static readonly long T0 = Timestamp.Now() - TimeSpan.FromDays(600).Ticks * 100;

    public static int Run(string[] args)
    {
        long n = args.SkipWhile(a => a != "--messages").Skip(1).Select(long.Parse).FirstOrDefault(10_000_000);
        string? given = args.SkipWhile(a => a != "--dir").Skip(1).FirstOrDefault();
        string dir = given ?? Directory.CreateTempSubdirectory("storesync-bench-syncindex-").FullName;
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        try
        {
            var store = MessageStore.Open(dir);
            long have = store.GetFigures(Topic).Messages;
            if (have < n)
            {
                var fill = Stopwatch.StartNew();
                var batch = new List<IngestItem>(10_000);
                for (long i = have; i < n; i++)
                {
                    batch.Add(new IngestItem(Topic, new WakuMessage
                    {
                        ContentTopic = $"/app/1/c{i % 4}/proto",
                        Timestamp = T0 + i * 5_000_000L, // 200 per second
                        Payload = ByteString.CopyFromUtf8($"message {i} {i * 7919 % 1000003}"),
                    }));
                    if (batch.Count == batch.Capacity) { store.Ingest(batch); batch.Clear(); }
                }
                if (batch.Count > 0) store.Ingest(batch);
                Console.WriteLine($"filled {n - have} messages in {fill.Elapsed.TotalSeconds:0.0} s");
            }
            Console.WriteLine($"store: {store.GetFigures(Topic).Messages} messages on {Topic}");

            var indexDir = Path.Combine(dir, "sync-index-bench");
            if (Directory.Exists(indexDir)) Directory.Delete(indexDir, recursive: true);
            Fingerprint all = default;
            for (int run = 1; run <= 2; run++)
            {
                long cpu = ThreadCpu.Nanoseconds();
                // The first build is not saved; the second (same store, still open) is saved at the close.
                var indexes = new SyncIndexes(store, [Topic], directory: run == 2 ? indexDir : null);
                indexes.Build();
                var index = indexes[Topic];
                all = index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue);
                Console.WriteLine($"build {run} from RocksDB: {index.Count} messages in {index.BuildTime.TotalSeconds:0.000} s wall, " +
                    $"{(ThreadCpu.Nanoseconds() - cpu) / 1e9:0.000} s CPU of the building thread; {index.MemoryBytes / (double)index.Count:0.00} bytes per message; " +
                    $"GC heap {GC.GetTotalMemory(forceFullCollection: true) / (1 << 20)} MiB");
                if (run == 1) continue;
                var close = Stopwatch.StartNew();
                store.Dispose(); // the closing handler saves the index
                var file = Directory.GetFiles(indexDir, "*.fpi").Single();
                Console.WriteLine($"close with save: {close.Elapsed.TotalSeconds:0.000} s; file {new FileInfo(file).Length / (double)(1 << 20):0.0} MiB " +
                    $"({new FileInfo(file).Length / (double)index.Count:0.00} bytes per message)");
            }

            // A community scope's index (spec/sync.md §5.2): the same scan of the pubsub topic, keeping one of its 4 content topics.
            store = MessageStore.Open(dir);
            {
                long cpu = ThreadCpu.Nanoseconds();
                var community = new SyncIndexes(store, [Topic]);
                community.Build();
                long topicCpu = ThreadCpu.Nanoseconds() - cpu;
                cpu = ThreadCpu.Nanoseconds();
                community.Track(new SyncScope([Topic], ["/app/1/c0/proto"]));
                var index = community.CommunityIndexes.Single();
                Console.WriteLine($"community scope (1 of 4 content topics) from RocksDB: {index.Count} messages in {index.BuildTime.TotalSeconds:0.000} s wall, " +
                    $"{(ThreadCpu.Nanoseconds() - cpu) / 1e9:0.000} s CPU; {index.MemoryBytes / (double)index.Count:0.00} bytes per message " +
                    $"(the per-topic index before it: {community[Topic].BuildTime.TotalSeconds:0.000} s wall, {topicCpu / 1e9:0.000} s CPU)");
            }
            store.Dispose();

            for (int run = 1; run <= 2; run++)
            {
                store = MessageStore.Open(dir);
                long cpu = ThreadCpu.Nanoseconds();
                var loaded = new SyncIndexes(store, [Topic], directory: indexDir);
                loaded.Build();
                var index = loaded[Topic];
                if (!index.Loaded) throw new InvalidOperationException("the saved index was not used: " + index.NotLoadedReason);
                if (index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue) != all) throw new InvalidOperationException("the loaded index differs from the built one");
                Console.WriteLine($"load {run} at start-up: {index.Count} messages in {index.BuildTime.TotalSeconds:0.000} s wall, " +
                    $"{(ThreadCpu.Nanoseconds() - cpu) / 1e9:0.000} s CPU; equal to the built index");
                store.Dispose();
            }
        }
        finally
        {
            if (given is null) Directory.Delete(dir, recursive: true);
        }
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }
}
