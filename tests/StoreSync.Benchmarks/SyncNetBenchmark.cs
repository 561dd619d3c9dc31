using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Reconciliation;
using StoreSync.Storage;
using StoreSync.Storage.Retention;
using StoreSync.Storage.Sync;
using StoreSync.Waku;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Peers;
using StoreSync.Waku.Sync;

namespace StoreSync.Benchmarks;

/// <summary>Store sync over the network: sync-index build time from RocksDB, and a two-node sync over loopback (Noise + yamux)
/// with real stores, both modes. <c>syncnet [--index N] [--messages N] [--diff FRACTION]</c>.</summary>
public static class SyncNetBenchmark
{
    const string Topic = "/waku/2/rs/1/0";

    public static async Task<int> RunAsync(string[] args)
    {
        int indexN = Arg(args, "--index", 1_000_000), n = Arg(args, "--messages", 100_000);
        double diff = args.SkipWhile(a => a != "--diff").Skip(1).Select(double.Parse).FirstOrDefault(0.01);
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        if (indexN > 0) IndexBuild(indexN);
        if (n > 0)
        {
            // The first run of each mode includes JIT compilation; the second is the figure.
            for (int run = 1; run <= 2; run++)
                foreach (var mode in new[] { SyncModes.Native, SyncModes.Nwaku }) await TwoNodesAsync(n, diff, mode, run);
        }
        return 0;
    }

    static int Arg(string[] args, string name, int fallback) =>
        args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).FirstOrDefault(fallback);

    static readonly long T0 = Timestamp.Now() - TimeSpan.FromDays(300).Ticks * 100;

    static WakuMessage Message(long i) => new()
    {
        ContentTopic = $"/app/1/c{i % 4}/proto",
        Timestamp = T0 + i * 250_000_000L, // 4 per second over the past
        Payload = ByteString.CopyFromUtf8($"message {i} {i * 7919 % 1000003}"),
    };

    static void Fill(MessageStore store, IEnumerable<long> ids)
    {
        foreach (var chunk in ids.Chunk(10_000)) store.Ingest(chunk.Select(i => new IngestItem(Topic, Message(i))).ToList());
    }

    static void IndexBuild(int n)
    {
        var dir = Directory.CreateTempSubdirectory("storesync-bench-index-").FullName;
        try
        {
            using var store = MessageStore.Open(dir);
            var fill = Stopwatch.StartNew();
            Fill(store, Enumerable.Range(0, n).Select(i => (long)i));
            Console.WriteLine($"filled {n} messages in {fill.Elapsed.TotalSeconds:0.0} s");
            SyncIndex? index = null;
            for (int run = 0; run < 3; run++)
            {
                index = SyncIndex.Create(store, Topic);
                Console.WriteLine($"sync index build: {index.Count} messages in {index.BuildTime.TotalSeconds:0.000} s " +
                    $"({index.BuildTime.TotalSeconds * 1_000_000 / n:0.000} s per 1M), {index.MemoryBytes / (double)index.Count:0.00} bytes per message");
            }
            // What one range fingerprint costs on the live index: two O(log n) descents plus one edge-block read from RocksDB each.
            var rng = new Random(1);
            const int queries = 20_000;
            var sw = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            for (int q = 0; q < queries; q++)
            {
                long a = T0 + rng.NextInt64((long)n * 250_000_000L), b = a + rng.NextInt64(1, 1_000_000_000_000L);
                index!.GetFingerprint(SyncItem.At(a), SyncItem.At(b));
            }
            Console.WriteLine($"range fingerprint on the live index: {sw.Elapsed.TotalMilliseconds * 1000 / queries:0.0} µs per query ({queries} random ranges), {CpuMicros(ref cpu, queries):0.0} µs CPU");
            var items = new SyncItem[128];
            sw.Restart();
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            for (int q = 0; q < queries; q++)
            {
                long a = T0 + rng.NextInt64((long)n * 250_000_000L);
                store.SyncItems(new SyncScope([Topic], [])).Read(SyncItem.At(a), SyncItem.At(a + 16_000_000_000L), items);
            }
            Console.WriteLine($"edge read (StoreSyncItems.Read of ≤ 64 items): {sw.Elapsed.TotalMilliseconds * 1000 / queries:0.0} µs per read, {CpuMicros(ref cpu, queries):0.0} µs CPU");
            // The same inside SharedReads, as a reconciliation frame reads: one snapshot, one iterator per topic, a seek per read.
            using (store.ShareReads())
            {
                sw.Restart();
                cpu = Process.GetCurrentProcess().TotalProcessorTime;
                for (int q = 0; q < queries; q++)
                {
                    long a = T0 + rng.NextInt64((long)n * 250_000_000L), b = a + rng.NextInt64(1, 1_000_000_000_000L);
                    index!.GetFingerprint(SyncItem.At(a), SyncItem.At(b));
                }
                Console.WriteLine($"range fingerprint, shared reads: {sw.Elapsed.TotalMilliseconds * 1000 / queries:0.0} µs per query, {CpuMicros(ref cpu, queries):0.0} µs CPU");
                var scope = store.SyncItems(new SyncScope([Topic], []));
                sw.Restart();
                cpu = Process.GetCurrentProcess().TotalProcessorTime;
                for (int q = 0; q < queries; q++)
                {
                    long a = T0 + rng.NextInt64((long)n * 250_000_000L);
                    scope.Read(SyncItem.At(a), SyncItem.At(a + 16_000_000_000L), items);
                }
                Console.WriteLine($"edge read, shared reads: {sw.Elapsed.TotalMilliseconds * 1000 / queries:0.0} µs per read, {CpuMicros(ref cpu, queries):0.0} µs CPU");
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    // Process CPU since *since* per operation (the probes run on one thread; RocksDB's background threads are idle meanwhile).
    static double CpuMicros(ref TimeSpan since, int operations)
    {
        var now = Process.GetCurrentProcess().TotalProcessorTime;
        double micros = (now - since).TotalMicroseconds / operations;
        since = now;
        return micros;
    }

    sealed class Node : IAsyncDisposable
    {
        public required string Dir { get; init; }
        public required MessageStore Store { get; init; }
        public required Libp2pHost Host { get; init; }
        public required StoreSyncClient Client { get; init; }
        public required SyncIndexes Indexes { get; init; }
        public required IDisposable[] Owned { get; init; }

        public static async Task<Node> StartAsync(IEnumerable<long> ids)
        {
            var dir = Directory.CreateTempSubdirectory("storesync-bench-sync-").FullName;
            var store = MessageStore.Open(dir);
            Fill(store, ids);
            var host = new Libp2pHost(IdentityKey.Generate(KeyType.Secp256k1), new HostOptions { Security = new NoiseSecurity() });
            var metrics = new WakuMetrics();
            var syncMetrics = new SyncMetrics();
            var penalties = new PeerPenalties();
            var sessions = new SyncSessions();
            var indexes = new SyncIndexes(store, [Topic]);
            indexes.Build();
            var ingress = new MessageIngress(store, MessageValidator.Default, new Served(), metrics, NullLogger<MessageIngress>.Instance);
            var runner = new ReconciliationRunner(host, store, penalties, syncMetrics, NullLogger<ReconciliationRunner>.Instance);
            new ReconciliationService(indexes, runner, sessions, penalties, SyncHorizon.None, syncMetrics, NullLogger<ReconciliationService>.Instance).Attach(host);
            new TransferService(ingress, store, sessions, penalties, SyncHorizon.None, syncMetrics, MessageValidator.DefaultMaxMessageBytes, NullLogger<TransferService>.Instance).Attach(host);
            await host.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], default);
            return new Node
            {
                Dir = dir, Store = store, Host = host, Indexes = indexes, Owned = [metrics, syncMetrics],
                Client = new StoreSyncClient(host, indexes, runner, sessions, SyncHorizon.None),
            };
        }

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            Store.Dispose();
            foreach (var o in Owned) o.Dispose();
            Directory.Delete(Dir, recursive: true);
        }
    }

    sealed class Served : IServedTopics
    {
        public bool Serves(string pubsubTopic) => pubsubTopic == Topic;
        public IReadOnlyCollection<string> PubsubTopics => [Topic];
    }

    static async Task TwoNodesAsync(int n, double diff, SyncModes mode, int run)
    {
        // d = diff × n differences, split both ways: each side lacks d/2 of the other's messages.
        int d = (int)(n * diff), half = d / 2;
        var shared = Enumerable.Range(0, n - d).Select(i => (long)i * 3);
        await using var a = await Node.StartAsync(shared.Concat(Enumerable.Range(0, half).Select(i => (long)i * 3 + 1)));
        await using var b = await Node.StartAsync(shared.Concat(Enumerable.Range(0, d - half).Select(i => (long)i * 3 + 2)));
        await a.Host.DialAsync(b.Host.ListenAddresses[0], default);
        long expected = n - d + d;
        var wall = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var result = await a.Client.SyncAsync(b.Host.PeerId, new SyncScope([Topic], []), T0 - 1, Timestamp.Now(), mode, default)
            ?? throw new InvalidOperationException("no session");
        var deadline = Stopwatch.StartNew();
        while ((a.Store.GetStatistics().Messages < expected || b.Store.GetStatistics().Messages < expected) && deadline.Elapsed < TimeSpan.FromMinutes(5))
            await Task.Delay(5);
        wall.Stop();
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        bool converged = a.Store.GetStatistics().Messages == expected && b.Store.GetStatistics().Messages == expected;
        Console.WriteLine($"run {run}: two-node sync, {result.Mode.Name()}, n = {n}, d = {d} ({diff:P2}): {(converged ? "converged" : "NOT converged")} in {wall.Elapsed.TotalSeconds:0.000} s wall " +
            $"({used.TotalSeconds:0.00} s CPU, both nodes); reconciliation {result.RoundTrips} round trips, {result.BytesSent} B out / {result.BytesReceived} B in; " +
            $"transfer {result.Pushed} messages pushed by the initiator ({result.TransferBytesSent} B), to receive {result.ToReceive}; session {result.Duration.TotalMilliseconds:0} ms");
    }
}
