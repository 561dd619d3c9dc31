using System.Diagnostics;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Storage;
using StoreSync.Storage.Query;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Benchmarks;

/// <summary>Ingest rate (with and without fsync per batch) and Store v3 page latency over a large store.</summary>
/// <remarks>
/// Options: <c>--messages N</c> (default 1,000,000), <c>--payload-bytes N</c> (default 1,024), <c>--progress N</c> (a line every N
/// messages during ingest), <c>--memtable-mib N --write-buffer-mib N --cache-mib N</c> (store options; defaults as
/// <see cref="MessageStoreOptions"/>), <c>--synced N</c> (default
/// 100,000: each durability variant writes this many in batches of 1,000 and a twentieth of it in batches of 1, on a fresh
/// store; 0 skips them), <c>--queries N</c> (default 2,000), <c>--dir PATH</c> (where the temporary stores go), <c>--keep</c> (leave the
/// ingested store in place and print its folder), <c>--reuse FOLDER</c> (query a store a <c>--keep</c> run left, without ingesting),
/// <c>--no-settle</c> (query at once, while flush and compaction of the ingest still run; by default the queries wait until they end),
/// <c>--warm-page-cache</c> (read every file of the store once before the queries, so that they measure a store the OS page cache
/// holds whole), <c>--seed N</c> (default 42: the data and the queries; another seed on <c>--reuse</c> asks other pages),
/// <c>--writers N</c> (default 1: N threads ingest batches at once, each its share of the messages, as sync transfers from several
/// peers do; shows what the store takes when preparing one batch overlaps writing another), <c>--object-pages</c> (measure <see cref="StoreQueryExecution.Execute"/>, the response as objects that REST and
/// the CLI use, instead of <see cref="StoreQueryExecution.ExecuteEncoded"/>, the encoded response the node sends over libp2p).
/// </remarks>
public static class StorageBenchmark
{
    internal const string Pubsub = "/waku/2/rs/1/0";
    internal static readonly string[] Topics = Enumerable.Range(0, 10).Select(i => $"/community/1/channel-{i}/proto").ToArray();

    public static int Run(string[] args)
    {
        int messages = Option(args, "--messages", 1_000_000), synced = Option(args, "--synced", 100_000), queries = Option(args, "--queries", 2_000);
        int payloadBytes = Option(args, "--payload-bytes", 1024);
        _progressEvery = Option(args, "--progress", 0);
        var random = new Random(Option(args, "--seed", 42));
        long t0 = Timestamp.Now() - messages * 1_000_000L;

        int dirAt = Array.IndexOf(args, "--dir"), reuseAt = Array.IndexOf(args, "--reuse");
        string? reuse = reuseAt >= 0 && reuseAt + 1 < args.Length ? Path.GetFullPath(args[reuseAt + 1]) : null;
        bool keep = reuse is not null || Array.IndexOf(args, "--keep") >= 0;
        string parent = dirAt >= 0 && dirAt + 1 < args.Length ? args[dirAt + 1] : Path.GetTempPath();
        string dir = reuse ?? Directory.CreateDirectory(Path.Combine(parent, $"storesync-bench-{Guid.NewGuid():N}")).FullName;
        string layout = Path.Combine(dir, "benchmark.txt"); // what a --reuse run needs to aim its queries: count and first timestamp
        if (reuse is not null)
        {
            if (!File.Exists(layout)) throw new ArgumentException($"--reuse {reuse}: no benchmark.txt there (not a folder a --keep run left)");
            var saved = File.ReadAllText(layout).Split(' ');
            (messages, t0, synced) = (int.Parse(saved[0]), long.Parse(saved[1]), 0);
        }
        try
        {
            Console.WriteLine($"storage benchmark: {messages:N0} messages with {payloadBytes:N0}-byte payloads, {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}");
            var defaults = new MessageStoreOptions();
            var options = defaults with
            {
                MemtableBudgetBytes = (ulong)Option(args, "--memtable-mib", (int)(defaults.MemtableBudgetBytes >> 20)) << 20,
                WriteBufferBytes = (ulong)Option(args, "--write-buffer-mib", (int)(defaults.WriteBufferBytes >> 20)) << 20,
                BlockCacheBytes = (long)Option(args, "--cache-mib", (int)(defaults.BlockCacheBytes >> 20)) << 20,
            };
            Console.WriteLine($"store options: memtable budget {options.MemtableBudgetBytes >> 20} MiB, messages write buffer {options.WriteBufferBytes >> 20} MiB, block cache {options.BlockCacheBytes >> 20} MiB");
            using (var store = MessageStore.Open(Path.Combine(dir, "a"), options))
            {
                if (reuse is null)
                {
                    int writers = Option(args, "--writers", 1);
                    var (rate, cpu) = writers > 1 ? IngestConcurrently(store, messages, writers, t0, payloadBytes) : Ingest(store, messages, 1000, t0, random, payloadBytes);
                    Console.WriteLine($"ingest, WAL without fsync, batches of 1000: {rate:N0} messages/s, {cpu * 1e6 / messages:N1} µs CPU per message (all threads); peak RSS {PeakRssMiB():N0} MiB");
                    File.WriteAllText(layout, $"{messages} {t0}");
                }
                else Console.WriteLine($"reusing {messages:N0} messages in {dir}");
                if (Array.IndexOf(args, "--no-settle") < 0) Settle(store, reuse is null ? messages : 0);
                if (Array.IndexOf(args, "--warm-page-cache") >= 0) WarmPageCache(Path.Combine(dir, "a"));
                bool objects = Array.IndexOf(args, "--object-pages") >= 0;
                Console.WriteLine(objects ? "pages as response objects (Execute: REST, CLI)" : "pages encoded (ExecuteEncoded: what the node sends over libp2p)");
                foreach (int limit in queries > 0 ? new[] { 20, 100 } : [])
                {
                    Pages(store, queries, 1, t0, messages, random, limit, objects);
                    Pages(store, queries, 3, t0, messages, random, limit, objects);
                }
                Console.WriteLine($"after queries: RSS {RssMiB():N0} MiB, peak RSS {PeakRssMiB():N0} MiB, store on disk {DirectoryMiB(Path.Combine(dir, "a")):N0} MiB, load average {LoadAverage()}");
                Console.WriteLine($"  memory: {store.GetMemoryUsage()}; managed heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:N0} MiB ({GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0:N0} MiB committed); RSS anonymous {ProcStatus("RssAnon:"):N0} MiB, file-backed {ProcStatus("RssFile:"):N0} MiB");
                if (Array.IndexOf(args, "--no-check") < 0)
                {
                    var integrity = Stopwatch.StartNew();
                    var problems = StoreIntegrity.Check(store);
                    Console.WriteLine($"integrity check of {messages:N0} messages: {integrity.Elapsed.TotalSeconds:N1} s, {problems.Count} problems");
                }
            }
            if (synced == 0) return 0;
            // Durability cost: the same number of messages, fresh store each, with and without an fsync of the WAL per batch.
            foreach (int batch in new[] { 1000, 1 })
                foreach (bool sync in new[] { false, true })
                {
                    using var store = MessageStore.Open(Path.Combine(dir, $"b{batch}-{sync}"), new MessageStoreOptions { SyncWrites = sync });
                    int n = batch == 1 ? synced / 20 : synced;
                    var (rate, _) = Ingest(store, n, batch, t0, random, payloadBytes);
                    Console.WriteLine($"ingest, {(sync ? "fsync per batch" : "WAL without fsync")}, batches of {batch}: {rate:N0} messages/s ({n:N0} messages, {rate / batch:N0} writes/s)");
                }
        }
        finally
        {
            if (keep) Console.WriteLine($"store kept in {dir} (query it again with --reuse {dir})");
            else Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    /// <summary>Reads every file of the store once (sequentially, 1 MiB at a time), so the OS page cache holds what fits of it.</summary>
    static void WarmPageCache(string folder)
    {
        var watch = Stopwatch.StartNew();
        var buffer = new byte[1 << 20];
        long total = 0;
        var next = TimeSpan.FromSeconds(10);
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                total += n;
                if (watch.Elapsed >= next)
                {
                    Console.WriteLine($"  warming the page cache: {total / 1048576.0:N0} MiB read after {watch.Elapsed.TotalSeconds:N0} s");
                    next += TimeSpan.FromSeconds(10);
                }
            }
        }
        Console.WriteLine($"page cache warmed: {total / 1048576.0:N0} MiB read in {watch.Elapsed.TotalSeconds:N1} s");
    }

    /// <summary>Waits (at most 20 min) until the ingest's flushes and compactions are done, so the queries measure the store, not
    /// the store sharing two cores with its own compaction backlog.</summary>
    static void Settle(MessageStore store, int ingested)
    {
        var watch = Stopwatch.StartNew();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var next = TimeSpan.Zero;
        StoreBackgroundWork work;
        while (!(work = store.GetBackgroundWork()).Idle && watch.Elapsed < TimeSpan.FromMinutes(20))
        {
            if (watch.Elapsed >= next)
            {
                Console.WriteLine($"  settling: {work} after {watch.Elapsed.TotalSeconds:N0} s");
                next += TimeSpan.FromSeconds(10);
            }
            Thread.Sleep(100);
        }
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        Console.WriteLine($"settled after {watch.Elapsed.TotalSeconds:N1} s ({cpu:N1} s CPU" +
            (ingested > 0 ? $", {cpu * 1e6 / ingested:N2} µs per ingested message still owed after the ingest loop" : "") + $"): {work}");
    }

    internal static (double Rate, double CpuSeconds) Ingest(MessageStore store, int count, int batchSize, long t0, Random random, int payloadBytes)
    {
        // Payloads are slices of a pool of random bytes at random offsets (Waku payloads are mostly encrypted, so random), with
        // the message number in the first bytes: a seeded Random filling 1 KiB per message cost more CPU than the store itself.
        var noise = new byte[NoiseBytes + payloadBytes];
        random.NextBytes(noise);
        var batch = new List<IngestItem>(batchSize);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        long threadCpu0 = ThreadCpu.Nanoseconds();
        var watch = Stopwatch.StartNew();
        var inStore = new Stopwatch();
        long foregroundCpu = 0;
        for (int i = 0; i < count; i++)
        {
            batch.Add(Item(noise, random, i, t0, payloadBytes));
            if (batch.Count == batchSize || i == count - 1)
            {
                inStore.Start();
                long c0 = ThreadCpu.Nanoseconds();
                store.Ingest(batch);
                foregroundCpu += ThreadCpu.Nanoseconds() - c0;
                inStore.Stop();
                batch.Clear();
            }
            if (_progressEvery > 0 && (i + 1) % _progressEvery == 0)
                Console.WriteLine($"  {i + 1:N0} messages, {watch.Elapsed.TotalSeconds:N0} s, {(i + 1) / watch.Elapsed.TotalSeconds:N0} messages/s so far, RSS {RssMiB():N0} MiB, peak {PeakRssMiB():N0} MiB, load {LoadAverage()}; {store.GetMemoryUsage()}");
        }
        double seconds = watch.Elapsed.TotalSeconds;
        double threadCpu = (ThreadCpu.Nanoseconds() - threadCpu0) / 1e9;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        Console.WriteLine($"  ({count:N0} messages: {inStore.Elapsed.TotalSeconds:N2} s inside MessageStore.Ingest of {seconds:N2} s ({count / inStore.Elapsed.TotalSeconds:N0} messages/s inside Ingest); " +
            $"CPU per message: calling thread inside Ingest {foregroundCpu / 1e3 / count:N2} µs, calling thread outside Ingest (making the messages) {(threadCpu * 1e9 - foregroundCpu) / 1e3 / count:N2} µs, " +
            $"other threads (RocksDB flush and compaction, the parallel half of hashing, GC) {(cpu - threadCpu) * 1e6 / count:N2} µs)");
        return (count / seconds, cpu);
    }

    /// <summary>As <see cref="Ingest"/> with <paramref name="writers"/> threads, each ingesting every writers-th message in batches of 1,000.</summary>
    static (double Rate, double CpuSeconds) IngestConcurrently(MessageStore store, int count, int writers, long t0, int payloadBytes)
    {
        var noise = new byte[NoiseBytes + payloadBytes];
        new Random(7).NextBytes(noise);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        long inStoreCpu = 0;
        var threads = Enumerable.Range(0, writers).Select(w => new Thread(() =>
        {
            var random = new Random(1000 + w);
            var batch = new List<IngestItem>(1000);
            long mine = 0;
            for (int i = w; i < count; i += writers)
            {
                batch.Add(Item(noise, random, i, t0, payloadBytes));
                if (batch.Count == 1000 || i + writers >= count)
                {
                    long c0 = ThreadCpu.Nanoseconds();
                    store.Ingest(batch);
                    mine += ThreadCpu.Nanoseconds() - c0;
                    batch.Clear();
                }
            }
            Interlocked.Add(ref inStoreCpu, mine);
        })).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        double seconds = watch.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        Console.WriteLine($"  ({count:N0} messages by {writers} writers in {seconds:N2} s; CPU per message: the writers inside Ingest {inStoreCpu / 1e3 / count:N2} µs, process {cpu * 1e6 / count:N2} µs)");
        return (count / seconds, cpu);
    }

    /// <summary>Message number <paramref name="i"/>: a slice of the noise pool with the number in front, a random content topic,
    /// 1 ms after the one before (plus up to 1 µs of jitter).</summary>
    static IngestItem Item(byte[] noise, Random random, int i, long t0, int payloadBytes)
    {
        var payload = noise.AsSpan(random.Next(NoiseBytes), payloadBytes).ToArray();
        if (payload.Length >= 4) System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(payload, i);
        return new IngestItem(Pubsub, new WakuMessage
        {
            Payload = UnsafeByteOperations.UnsafeWrap(payload),
            ContentTopic = Topics[random.Next(Topics.Length)],
            Timestamp = t0 + i * 1_000_000L + random.Next(1000),
        });
    }

    const int NoiseBytes = 16 << 20;

    /// <summary>Messages between progress lines during ingest (<c>--progress N</c>; 0 = none).</summary>
    static int _progressEvery;

    static void Pages(MessageStore store, int queries, int topics, long t0, int messages, Random random, int limit, bool objects)
    {
        var engine = new StoreQueryEngine(store);
        uint Page(StoreQueryRequest request)
        {
            if (objects) return engine.Execute(request).StatusCode;
            using var encoded = engine.ExecuteEncoded(request);
            return encoded.StatusCode;
        }
        // Warm-up, not measured: the first pages of a process run tier-0 code and fill the block cache.
        for (int q = 0; q < Math.Min(200, queries); q++) Page(Request(topics, t0, messages, random, limit));
        int gcs0 = GC.CollectionCount(0);
        var latencies = new double[queries];
        var cpu = new double[queries]; // the querying thread's CPU: what the page costs without the neighbours' scheduling
        long allocated0 = GC.GetAllocatedBytesForCurrentThread();
        for (int q = 0; q < queries; q++)
        {
            var request = Request(topics, t0, messages, random, limit);
            long cpu0 = ThreadCpu.Nanoseconds();
            var watch = Stopwatch.StartNew();
            uint status = Page(request);
            latencies[q] = watch.Elapsed.TotalMilliseconds;
            cpu[q] = (ThreadCpu.Nanoseconds() - cpu0) / 1e6;
            if (status != 200) throw new InvalidOperationException($"status {status}");
        }
        long allocated = (GC.GetAllocatedBytesForCurrentThread() - allocated0) / queries;
        int gcs = GC.CollectionCount(0) - gcs0;
        Array.Sort(latencies);
        Array.Sort(cpu);
        Console.WriteLine($"{limit}-row pages with data, {topics} content topic(s), random start, {queries:N0} queries: p50 {latencies[queries / 2]:N3} ms, p99 {latencies[queries * 99 / 100]:N3} ms, max {latencies[^1]:N3} ms; " +
            $"CPU p50 {cpu[queries / 2]:N3} ms, p99 {cpu[queries * 99 / 100]:N3} ms; {allocated:N0} B allocated per page (request and response included), {gcs} gen-0 GCs");
    }

    static StoreQueryRequest Request(int topics, long t0, int messages, Random random, int limit)
    {
        var request = new StoreQueryRequest { RequestId = "b", PubsubTopic = Pubsub, IncludeData = true, PaginationForward = random.Next(2) == 0, PaginationLimit = (ulong)limit };
        foreach (var t in Topics.OrderBy(_ => random.Next()).Take(topics)) request.ContentTopics.Add(t);
        long start = t0 + (long)random.Next(messages) * 1_000_000L;
        if (request.PaginationForward) request.TimeStart = start; else request.TimeEnd = start;
        return request;
    }

    internal static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    static double RssMiB() => ProcStatus("VmRSS:");

    static double PeakRssMiB() => ProcStatus("VmHWM:");

    static double ProcStatus(string field)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? double.NaN : long.Parse(line[field.Length..].Trim().Split(' ')[0]) / 1024.0;
    }

    static double DirectoryMiB(string path) => new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) / 1048576.0;

    internal static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out int v) ? v : fallback;
    }
}
