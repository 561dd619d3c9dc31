using System.Diagnostics;
using StoreSync.Core;
using StoreSync.Storage;
using StoreSync.Storage.Retention;

namespace StoreSync.Benchmarks;

/// <summary>Eviction rate (messages/s, accounted MB/s) and chunk latency on a large store: a scope limit, the global limit, a scope deletion.</summary>
/// <remarks>
/// Options: <c>--messages N</c> (default 1,000,000, the storage benchmark's messages: one pubsub topic, 10 content topics,
/// 1 ms apart), <c>--payload-bytes N</c> (default 150: ~200-byte chat messages, kept inline; ≥ 256 go to blob files),
/// <c>--chunk N</c> (default 1,000). Scope "a" = channels 0–4, scope "b" = channels 5–9.
/// </remarks>
public static class RetentionBenchmark
{
    public static int Run(string[] args)
    {
        int messages = StorageBenchmark.Option(args, "--messages", 1_000_000), chunk = StorageBenchmark.Option(args, "--chunk", 1_000);
        int payloadBytes = StorageBenchmark.Option(args, "--payload-bytes", 150);
        var random = new Random(42);
        long t0 = Timestamp.Now() - messages * 1_000_000L;
        string dir = Directory.CreateTempSubdirectory("storesync-retention-bench-").FullName;
        try
        {
            Console.WriteLine($"retention benchmark: {messages:N0} messages, {payloadBytes} payload bytes, chunks of {chunk:N0}, {Environment.ProcessorCount} cores, .NET {Environment.Version}, load {File.ReadAllText("/proc/loadavg")[..14]}");
            using var store = MessageStore.Open(dir);
            var (rate, _) = StorageBenchmark.Ingest(store, messages, 1000, t0, random, payloadBytes);
            var stats = store.GetStatistics();
            Console.WriteLine($"ingested {stats.Messages:N0} messages, {stats.Bytes / 1e6:N1} MB accounted, at {rate:N0} messages/s; folder {FolderBytes(dir) / 1e6:N1} MB");

            var a = RetentionScope.Of("a", [StorageBenchmark.Pubsub], StorageBenchmark.Topics[..5]);
            var b = RetentionScope.Of("b", [StorageBenchmark.Pubsub], StorageBenchmark.Topics[5..]);
            var evictor = new Evictor(store, null, new EvictorOptions { ChunkMessages = chunk });

            // 1. Scope "a" down to a tenth of its bytes: its own FIFO.
            long aBytes = store.GetStatistics().PubsubTopics[0].ContentTopics.Where(c => a.Covers(StorageBenchmark.Pubsub, c.ContentTopic)).Sum(c => c.Bytes);
            evictor.Configure(new([ScopeRetention.Bytes(a, aBytes / 10), ScopeRetention.Bytes(b, null)]));
            Measure("scope limit (a to 10 % of its bytes)", evictor);

            // 2. The global limit: both scopes together to a tenth of what they hold, oldest of the union first.
            long held = evictor.GetFigures("a").Bytes + evictor.GetFigures("b").Bytes;
            evictor.Configure(new([ScopeRetention.Bytes(a, null), ScopeRetention.Bytes(b, null)], globalMaxBytes: held / 10));
            Measure("global limit (a + b to 10 %)", evictor);

            // 3. Opt-out with delete of what is left of "b", after ingesting a fresh tenth into it.
            StorageBenchmark.Ingest(store, messages / 10, 1000, t0 + messages * 1_000_000L, random, payloadBytes);
            var watch = Stopwatch.StartNew();
            var deleted = evictor.DeleteScope(b);
            Report("scope deletion (b)", deleted.Messages, deleted.Bytes, deleted.Chunks, watch.Elapsed, null);

            var integrity = Stopwatch.StartNew();
            var problems = StoreIntegrity.Check(store);
            var left = store.GetStatistics();
            Console.WriteLine($"left {left.Messages:N0} messages, {left.Bytes / 1e6:N1} MB accounted, folder {FolderBytes(dir) / 1e6:N1} MB (before compaction); integrity check {integrity.Elapsed.TotalSeconds:N1} s, {problems.Count} problems");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    /// <summary>Runs chunk after chunk (as <see cref="Evictor.Evict"/> does) and times each one: the write lock is held that long.</summary>
    static void Measure(string what, Evictor evictor)
    {
        var latencies = new List<double>();
        long messages = 0, bytes = 0;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        long thread0 = ThreadCpu.Nanoseconds();
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var chunkWatch = Stopwatch.StartNew();
            var done = evictor.EvictChunk();
            if (done.Messages == 0) break;
            latencies.Add(chunkWatch.Elapsed.TotalMilliseconds);
            messages += done.Messages;
            bytes += done.Bytes;
        }
        var elapsed = watch.Elapsed;
        double threadCpu = (ThreadCpu.Nanoseconds() - thread0) / 1e3;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        Report(what, messages, bytes, latencies.Count, elapsed, latencies);
        Console.WriteLine($"    CPU per evicted message: {threadCpu / Math.Max(1, messages):N1} µs on the evicting thread, {cpu * 1e6 / Math.Max(1, messages):N1} µs all threads (RocksDB flush and compaction included)");
    }

    static void Report(string what, long messages, long bytes, int chunks, TimeSpan elapsed, List<double>? latencies)
    {
        string chunkFigures = "";
        if (latencies is { Count: > 0 })
        {
            latencies.Sort();
            chunkFigures = $"; chunk p50 {latencies[latencies.Count / 2]:N2} ms, p99 {latencies[latencies.Count * 99 / 100]:N2} ms, max {latencies[^1]:N2} ms";
        }
        Console.WriteLine($"{what}: {messages:N0} messages, {bytes / 1e6:N1} MB in {chunks:N0} chunks, {elapsed.TotalSeconds:N2} s = {messages / elapsed.TotalSeconds:N0} messages/s, {bytes / 1e6 / elapsed.TotalSeconds:N1} MB/s{chunkFigures}");
    }

    static long FolderBytes(string dir) => new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
}
