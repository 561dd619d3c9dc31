using System.Diagnostics;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Storage;

namespace StoreSync.Benchmarks;

/// <summary>Ingest rate (with and without fsync per batch) and Store v3 page latency over a large store.</summary>
/// <remarks>
/// Options: <c>--messages N</c> (default 1,000,000), <c>--synced N</c> (default 100,000: each durability variant writes this
/// many in batches of 1,000 and a twentieth of it in batches of 1, on a fresh store), <c>--queries N</c> (default 2,000).
/// </remarks>
public static class StorageBenchmark
{
    internal const string Pubsub = "/waku/2/rs/1/0";
    internal static readonly string[] Topics = Enumerable.Range(0, 10).Select(i => $"/community/1/channel-{i}/proto").ToArray();

    public static int Run(string[] args)
    {
        int messages = Option(args, "--messages", 1_000_000), synced = Option(args, "--synced", 100_000), queries = Option(args, "--queries", 2_000);
        var random = new Random(42);
        long t0 = Timestamp.Now() - messages * 1_000_000L;

        string dir = Directory.CreateTempSubdirectory("storesync-bench-").FullName;
        try
        {
            Console.WriteLine($"storage benchmark: {messages:N0} messages of ~200 bytes, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
            using (var store = MessageStore.Open(Path.Combine(dir, "a")))
            {
                var (rate, cpu) = Ingest(store, messages, 1000, t0, random);
                Console.WriteLine($"ingest, WAL without fsync, batches of 1000: {rate:N0} messages/s, {cpu * 1e6 / messages:N1} µs CPU per message");
                Pages(store, queries, 1, t0, messages, random);
                Pages(store, queries, 3, t0, messages, random);
                var integrity = Stopwatch.StartNew();
                var problems = StoreIntegrity.Check(store);
                Console.WriteLine($"integrity check of {messages:N0} messages: {integrity.Elapsed.TotalSeconds:N1} s, {problems.Count} problems");
            }
            // Durability cost: the same number of messages, fresh store each, with and without an fsync of the WAL per batch.
            foreach (int batch in new[] { 1000, 1 })
                foreach (bool sync in new[] { false, true })
                {
                    using var store = MessageStore.Open(Path.Combine(dir, $"b{batch}-{sync}"), new MessageStoreOptions { SyncWrites = sync });
                    int n = batch == 1 ? synced / 20 : synced;
                    var (rate, _) = Ingest(store, n, batch, t0, random);
                    Console.WriteLine($"ingest, {(sync ? "fsync per batch" : "WAL without fsync")}, batches of {batch}: {rate:N0} messages/s ({n:N0} messages, {rate / batch:N0} writes/s)");
                }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }

    internal static (double Rate, double CpuSeconds) Ingest(MessageStore store, int count, int batchSize, long t0, Random random)
    {
        var payload = new byte[150];
        var batch = new List<IngestItem>(batchSize);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            random.NextBytes(payload);
            batch.Add(new IngestItem(Pubsub, new WakuMessage
            {
                Payload = ByteString.CopyFrom(payload),
                ContentTopic = Topics[random.Next(Topics.Length)],
                Timestamp = t0 + i * 1_000_000L + random.Next(1000),
            }));
            if (batch.Count == batchSize) { store.Ingest(batch); batch.Clear(); }
        }
        if (batch.Count > 0) store.Ingest(batch);
        double seconds = watch.Elapsed.TotalSeconds;
        return (count / seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds);
    }

    static void Pages(MessageStore store, int queries, int topics, long t0, int messages, Random random)
    {
        var engine = new StoreQueryEngine(store);
        var latencies = new double[queries];
        long allocated0 = GC.GetAllocatedBytesForCurrentThread();
        for (int q = 0; q < queries; q++)
        {
            var request = new StoreQueryRequest { RequestId = "b", PubsubTopic = Pubsub, IncludeData = true, PaginationForward = random.Next(2) == 0, PaginationLimit = 20 };
            foreach (var t in Topics.OrderBy(_ => random.Next()).Take(topics)) request.ContentTopics.Add(t);
            long start = t0 + (long)random.Next(messages) * 1_000_000L;
            if (request.PaginationForward) request.TimeStart = start; else request.TimeEnd = start;
            var watch = Stopwatch.StartNew();
            var response = engine.Execute(request);
            latencies[q] = watch.Elapsed.TotalMilliseconds;
            if (response.StatusCode != 200) throw new InvalidOperationException(response.StatusDesc);
        }
        long allocated = (GC.GetAllocatedBytesForCurrentThread() - allocated0) / queries;
        Array.Sort(latencies);
        Console.WriteLine($"20-row pages with data, {topics} content topic(s), random start, {queries:N0} queries: p50 {latencies[queries / 2]:N3} ms, p99 {latencies[queries * 99 / 100]:N3} ms, max {latencies[^1]:N3} ms, {allocated:N0} B allocated per page (request and response included)");
    }

    internal static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out int v) ? v : fallback;
    }
}
