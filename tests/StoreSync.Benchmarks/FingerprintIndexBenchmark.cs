using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Reconciliation;
using StoreSync.Storage;

namespace StoreSync.Benchmarks;

/// <summary>The fingerprint index: build, memory, query, update, save/load, in memory and over the real RocksDB store.</summary>
/// <remarks>
/// Options: <c>--n 10000000</c> (items of the in-memory part), <c>--rocksdb 1000000</c> (messages ingested into a fresh
/// RocksDB store whose <see cref="StoreSyncItems"/> the index is then built over; 0 skips it), <c>--queries 100000</c>.
/// </remarks>
public static class FingerprintIndexBenchmark
{
    const long T0 = 1_700_000_000_000_000_000;

    public static int Run(string[] args)
    {
        long n = Option(args, "--n", 10_000_000);
        long rocks = Option(args, "--rocksdb", 1_000_000);
        int queries = (int)Option(args, "--queries", 100_000);
        Console.WriteLine($"fingerprint index benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}; {SyncBenchmark.Uptime()}");
        if (n > 0) InMemory(n, queries);
        if (rocks > 0) OverRocksDb(rocks);
        Console.WriteLine($"finished; {SyncBenchmark.Uptime()}");
        return 0;
    }

    static void InMemory(long n, int queries)
    {
        var items = new SyncItem[n];
        ulong x = 7;
        long ts = T0;
        for (long i = 0; i < n; i++)
        {
            ts += 1 + (long)(Next(ref x) % 17_280_000UL); // ~ a day for 10^7 items
            items[i] = new SyncItem(ts, new MessageHash(Next(ref x), Next(ref x), Next(ref x), Next(ref x)));
        }
        var store = new OverlayItems(items);
        GC.Collect(2, GCCollectionMode.Forced, true, true);
        long before = GC.GetTotalMemory(true);
        var watch = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var index = FingerprintIndex.Build(store);
        double build = watch.Elapsed.TotalSeconds, buildCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        long heap = GC.GetTotalMemory(true) - before;
        Console.WriteLine($"| in memory | {n:N0} items | build {build:N2} s ({buildCpu:N2} s CPU) | {index.BlockCount:N0} blocks | " +
                          $"index {index.MemoryBytes / (double)n:N2} B/item ({index.MemoryBytes >> 20:N0} MiB; GC heap growth {heap / (double)n:N2} B/item) |");

        var rng = new Random(1);
        watch.Restart();
        cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long sink = 0;
        for (int q = 0; q < queries; q++)
        {
            long i = rng.NextInt64(n), j = Math.Min(n - 1, i + rng.NextInt64(n - i));
            sink += index.GetFingerprint(items[i], items[j]).Count;
        }
        Console.WriteLine($"| in memory | random range fingerprint | {watch.Elapsed.TotalMilliseconds * 1000 / queries:N2} µs each ({CpuMicros(cpu) / queries:N2} µs CPU; {queries:N0} queries) | checksum {sink % 1000} |");

        // Updates: inserts of new items and deletes of stored ones, each kept in step in the store and the index.
        int updates = 200_000;
        var added = new SyncItem[updates / 2];
        watch.Restart();
        cpu = Process.GetCurrentProcess().TotalProcessorTime;
        for (int u = 0; u < updates / 2; u++)
        {
            var item = new SyncItem(T0 + rng.NextInt64(ts - T0), new MessageHash(Next(ref x), Next(ref x), Next(ref x), Next(ref x)));
            added[u] = item;
            store.Insert(item);
            index.Insert(item);
        }
        for (int u = 0; u < updates / 2; u++)
        {
            var victim = items[rng.NextInt64(n)];
            if (store.Delete(victim)) index.Remove(victim);
        }
        Console.WriteLine($"| in memory | {updates:N0} updates (half inserts, half deletes) | {watch.Elapsed.TotalMilliseconds * 1000 / updates:N2} µs each ({CpuMicros(cpu) / updates:N2} µs CPU), index and store together | {index.Count:N0} items after |");
        if (index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue) != store.Total())
            throw new InvalidOperationException("index and store disagree after updates");

        string file = Path.Combine(Path.GetTempPath(), $"storesync-index-{Environment.ProcessId}.bin");
        try
        {
            watch.Restart();
            using (var output = new BufferedStream(File.Create(file), 1 << 20)) index.Save(output);
            double save = watch.Elapsed.TotalSeconds;
            watch.Restart();
            FingerprintIndex loaded;
            using (var input = new BufferedStream(File.OpenRead(file), 1 << 20)) loaded = FingerprintIndex.Load(store, input);
            double load = watch.Elapsed.TotalSeconds;
            if (loaded.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue) != index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue))
                throw new InvalidOperationException("loaded index differs");
            Console.WriteLine($"| in memory | save / load | {save:N2} s / {load:N2} s | {new FileInfo(file).Length >> 20:N0} MiB file |");
        }
        finally { File.Delete(file); }
        GC.KeepAlive(added);
    }

    static void OverRocksDb(long count)
    {
        string dir = Directory.CreateTempSubdirectory("storesync-index-").FullName;
        try
        {
            using var store = MessageStore.Open(Path.Combine(dir, "db"));
            var random = new Random(42);
            var payload = new byte[100];
            var batch = new List<IngestItem>(1000);
            long t0 = Timestamp.Now() - count * 1_000_000L;
            var watch = Stopwatch.StartNew();
            for (long i = 0; i < count; i++)
            {
                random.NextBytes(payload);
                batch.Add(new IngestItem(i % 4 == 0 ? "/waku/2/rs/1/1" : "/waku/2/rs/1/0", new WakuMessage
                {
                    Payload = ByteString.CopyFrom(payload),
                    ContentTopic = $"/community/1/channel-{random.Next(10)}/proto",
                    Timestamp = t0 + i * 1_000_000L + random.Next(1000),
                }));
                if (batch.Count == 1000) { store.Ingest(batch); batch.Clear(); }
            }
            if (batch.Count > 0) store.Ingest(batch);
            Console.WriteLine($"| RocksDB | ingested {count:N0} messages | {watch.Elapsed.TotalSeconds:N1} s | |");
            foreach (var scope in new[] { SyncScope.All, new SyncScope(["/waku/2/rs/1/0"], []), new SyncScope(["/waku/2/rs/1/0"], ["/community/1/channel-3/proto"]) })
            {
                var items = store.SyncItems(scope);
                watch.Restart();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var index = FingerprintIndex.Build(items);
                double seconds = watch.Elapsed.TotalSeconds, cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                string name = scope.PubsubTopics.Count == 0 ? "all topics (2 pubsub merged)" : scope.ContentTopics.Count == 0 ? "1 pubsub topic" : "1 pubsub, 1 of 10 content topics";
                Console.WriteLine($"| RocksDB | build over StoreSyncItems, {name} | {seconds:N2} s ({cpuSeconds:N2} s CPU) for {index.Count:N0} items = " +
                                  $"{seconds * 1e6 / Math.Max(1, index.Count):N2} µs/item ⇒ {seconds * 1e7 / Math.Max(1, index.Count):N1} s per 10^7 | {index.MemoryBytes / (double)Math.Max(1, index.Count):N2} B/item |");
                var rng = new Random(2);
                watch.Restart();
                cpu = Process.GetCurrentProcess().TotalProcessorTime;
                const int q = 2000;
                for (int k = 0; k < q; k++)
                {
                    long a = t0 + rng.NextInt64(count) * 1_000_000L, b = a + rng.NextInt64(3_600_000_000_000L);
                    index.GetFingerprint(SyncItem.At(a), SyncItem.At(b));
                }
                Console.WriteLine($"| RocksDB | random range fingerprint, {name} | {watch.Elapsed.TotalMilliseconds * 1000 / q:N1} µs each ({CpuMicros(cpu) / q:N1} µs CPU) | |");
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>A sorted base array plus inserted items and deleted ones: cheap updates for a 10^7-item benchmark store.</summary>
    sealed class OverlayItems(SyncItem[] items) : IOrderedSyncItems
    {
        readonly SortedSet<SyncItem> _added = [];
        readonly HashSet<SyncItem> _deleted = [];

        public void Insert(in SyncItem item) => _added.Add(item);

        public bool Delete(in SyncItem item) => Array.BinarySearch(items, item) >= 0 && _deleted.Add(item);

        public Fingerprint Total()
        {
            var fp = Fingerprint.Of(items);
            foreach (var x in _added) fp = fp.Add(x.Hash);
            foreach (var x in _deleted) fp = fp.Remove(x.Hash);
            return fp;
        }

        public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination)
        {
            int i = Array.BinarySearch(items, from);
            if (i < 0) i = ~i;
            bool any = _added.Count > 0 && from < to;
            var extra = any ? _added.GetViewBetween(from, to).GetEnumerator() : default;
            bool hasExtra = any && extra.MoveNext() && extra.Current < to;
            int n = 0;
            while (n < destination.Length)
            {
                while (i < items.Length && _deleted.Count > 0 && _deleted.Contains(items[i])) i++;
                bool hasBase = i < items.Length && items[i] < to;
                if (!hasBase && !hasExtra) break;
                if (hasExtra && (!hasBase || extra.Current < items[i]))
                {
                    destination[n++] = extra.Current;
                    hasExtra = extra.MoveNext() && extra.Current < to;
                }
                else destination[n++] = items[i++];
            }
            return n;
        }
    }

    static double CpuMicros(TimeSpan since) => (Process.GetCurrentProcess().TotalProcessorTime - since).TotalMilliseconds * 1000;

    static ulong Next(ref ulong x)
    {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        return x * 0x2545F4914F6CDD1DUL;
    }

    static long Option(string[] args, string name, long fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && long.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : fallback;
    }
}
