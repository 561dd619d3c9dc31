using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Bandwidth;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Noise;
using StoreSync.Storage;
using StoreSync.Testing.Node;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Benchmarks;

/// <summary>The resource governor's costs and accuracy: pacing accuracy of <see cref="ThrottledStream"/> at a few limits over a
/// loopback TCP socket, its CPU overhead against the bare socket, and the latency of realtime light pushes to a real node while
/// its upload limit is saturated by Store v3 history.</summary>
/// <remarks>
/// Options: <c>--mib N</c> bytes per overhead run (default 256 MiB), <c>--pace-seconds N</c> length of each pacing run (default 8),
/// <c>--history-mib N</c> history served in the latency phase (default 12), <c>--limit-kib N</c> its upload limit (default 1024).
/// Every loop is bounded by its byte count and by a 10-minute overall timeout.
/// </remarks>
public static class BandwidthBenchmark
{
    const int Chunk = 64 * 1024, Rounds = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        int mib = Option(args, "--mib", 256), paceSeconds = Option(args, "--pace-seconds", 8);
        int historyMib = Option(args, "--history-mib", 12), limitKib = Option(args, "--limit-kib", 1024);
        using var overall = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var ct = overall.Token;
        Console.WriteLine($"bandwidth benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}");

        Console.WriteLine($"\npacing accuracy ({paceSeconds} s of traffic per limit, burst = limit / 4, 64 KiB writes, loopback TCP):");
        Console.WriteLine("| limit | bytes | paced minimum (N − burst) / rate | measured | error |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (long rate in new long[] { 256 * 1024, 1024 * 1024, 8 * 1024 * 1024 })
        {
            long bytes = rate * paceSeconds, burst = rate / 4;
            var chain = new BandwidthChain([new TokenBucket(rate, burst)]);
            var (wall, _) = await TransferAsync(bytes, s => new ThrottledStream(s, BandwidthChain.Unlimited, chain), ct);
            double expected = (bytes - burst) / (double)rate;
            Console.WriteLine($"| {rate / 1024} KiB/s | {bytes / (1 << 20)} MiB | {expected:0.000} s | {wall.TotalSeconds:0.000} s | {100 * (wall.TotalSeconds - expected) / expected:+0.0;-0.0;0.0} % |");
        }

        Console.WriteLine($"\nCPU overhead ({mib} MiB per run, 64 KiB writes, loopback TCP, sender and receiver in this process; {Rounds} rounds, the variants interleaved; median and range):");
        Console.WriteLine("| stream | wall | MiB/s | process CPU per MiB |");
        Console.WriteLine("|---|---|---|---|");
        long total = (long)mib << 20;
        // Warm-up (JIT, socket buffers) before the measured runs.
        await TransferAsync(16 << 20, s => s, ct);
        var variants = new (string Name, Func<Stream, Stream> Wrap)[]
        {
            ("bare NetworkStream", s => s),
            ("ThrottledStream, no limit (BandwidthChain.Unlimited)", s => new ThrottledStream(s, BandwidthChain.Unlimited, BandwidthChain.Unlimited)),
            ("ThrottledStream, 2 buckets at 1 TiB/s (reserve every 16 KiB chunk, never wait)",
                s => new ThrottledStream(s, BandwidthChain.Unlimited, new BandwidthChain([new TokenBucket(1L << 40, 1L << 38), new TokenBucket(1L << 40, 1L << 38)]))),
        };
        var runs = variants.Select(_ => new List<(TimeSpan Wall, TimeSpan Cpu)>()).ToArray();
        for (int round = 0; round < Rounds; round++)
            for (int v = 0; v < variants.Length; v++) runs[v].Add(await TransferAsync(total, variants[v].Wrap, ct));
        for (int v = 0; v < variants.Length; v++)
        {
            var walls = runs[v].Select(r => r.Wall.TotalSeconds).Order().ToList();
            var cpus = runs[v].Select(r => r.Cpu.TotalMilliseconds / mib).Order().ToList();
            Console.WriteLine($"| {variants[v].Name} | {walls[Rounds / 2]:0.00} s ({walls[0]:0.00}–{walls[^1]:0.00}) | {mib / walls[Rounds / 2]:0} | " +
                $"{cpus[Rounds / 2]:0.00} ms ({cpus[0]:0.00}–{cpus[^1]:0.00}) |");
        }

        Console.WriteLine($"\nrealtime latency while history saturates a {limitKib} KiB/s upload limit ({historyMib} MiB served by Store v3, REST light push every 100 ms):");
        await RealtimeLatencyAsync(historyMib, limitKib * 1024L, ct);
        Console.WriteLine($"\nload average at the end {LoadAverage()}");
        return 0;
    }

    /// <summary>Sends <paramref name="bytes"/> over a loopback TCP connection through <paramref name="wrap"/>; returns the time until the
    /// receiver has the last byte and the process CPU time spent.</summary>
    static async Task<(TimeSpan Wall, TimeSpan Cpu)> TransferAsync(long bytes, Func<Stream, Stream> wrap, CancellationToken ct)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, ct);
        using var server = await listener.AcceptTcpClientAsync(ct);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var receive = Task.Run(async () =>
        {
            var buffer = new byte[Chunk];
            var stream = server.GetStream();
            long got = 0;
            while (got < bytes)
            {
                int n = await stream.ReadAsync(buffer, ct);
                if (n == 0) throw new EndOfStreamException($"closed after {got} of {bytes} bytes");
                got += n;
            }
        }, ct);
        var send = wrap(client.GetStream());
        var data = new byte[Chunk];
        Random.Shared.NextBytes(data);
        for (long sent = 0; sent < bytes; sent += Chunk)
            await send.WriteAsync(data.AsMemory(0, (int)Math.Min(Chunk, bytes - sent)), ct);
        await receive;
        var wall = clock.Elapsed;
        return (wall, Process.GetCurrentProcess().TotalProcessorTime - cpu0);
    }

    /// <summary>A real node with an upload limit serves <paramref name="historyMib"/> MiB of history to a Store v3 client while a REST
    /// client pushes a small realtime message every 100 ms; first the same pushes without the history traffic, as the baseline.</summary>
    static async Task RealtimeLatencyAsync(int historyMib, long limit, CancellationToken ct)
    {
        const string pubsub = "/waku/2/rs/1/0", history = "/bench/1/history/proto", live = "/bench/1/live/proto";
        var dataDir = Directory.CreateTempSubdirectory("storesync-bandwidth-bench-").FullName;
        try
        {
            int messages = historyMib * 10;   // ~100 KiB each
            using (var store = MessageStore.Open(dataDir))
            {
                var payload = new byte[100 * 1024];
                long t0 = Timestamp.Now() - TimeSpan.FromHours(2).Ticks * 100;
                for (int i = 0; i < messages; i++)
                {
                    Random.Shared.NextBytes(payload);
                    store.Ingest([new IngestItem(pubsub, new WakuMessage { Payload = ByteString.CopyFrom(payload), ContentTopic = history, Timestamp = t0 + i * 1_000_000_000L })]);
                }
            }
            await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = dataDir, Args = ["--shard", "0", "--upload-limit", limit.ToString(), "--store-sync", "false"] });
            using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(30) };
            int round = 0;
            async Task<double> PushAsync()
            {
                var t = Stopwatch.StartNew();
                var r = await http.PostAsJsonAsync("/lightpush/v3/message", new
                {
                    pubsubTopic = pubsub,
                    message = new { payload = Convert.ToBase64String(BitConverter.GetBytes(round++)), contentTopic = live, timestamp = Timestamp.Now() },
                }, ct);
                r.EnsureSuccessStatusCode();
                return t.Elapsed.TotalMilliseconds;
            }
            for (int i = 0; i < 20; i++) await PushAsync();   // warm-up (JIT of the REST paths)

            var idle = new List<double>();
            for (int i = 0; i < 50; i++) { idle.Add(await PushAsync()); await Task.Delay(100, ct); }

            await using var client = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() });
            var request = new StoreQueryRequest { RequestId = "bench", IncludeData = true, PubsubTopic = pubsub, PaginationForward = true, PaginationLimit = 100 };
            request.ContentTopics.Add(history);
            using var done = new CancellationTokenSource();
            var busy = new List<double>();
            var pushes = Task.Run(async () =>
            {
                // Bounded: at most 3,000 pushes (5 minutes), until the history transfer ends.
                for (int i = 0; i < 3000 && !done.IsCancellationRequested; i++)
                {
                    busy.Add(await PushAsync());
                    try { await Task.Delay(100, done.Token); } catch (OperationCanceledException) { }
                }
            }, ct);
            var clock = Stopwatch.StartNew();
            long served = 0;
            await foreach (var page in new StoreQueryClient(client).QueryAllAsync(node.Multiaddr, request, maxPages: 100, ct: ct))
                served += page.Messages.Sum(m => (long)m.Message.Payload.Length);
            var wall = clock.Elapsed;
            done.Cancel();
            await pushes;
            Console.WriteLine($"history: {served / 1024} KiB of payload served in {wall.TotalSeconds:0.00} s = {served / wall.TotalSeconds / 1024:0} KiB/s (limit {limit / 1024} KiB/s; paced minimum of the payload alone {(served - limit / 4) / (double)limit:0.00} s)");
            Console.WriteLine("| REST light push latency | n | p50 | p99 | max |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (var (name, list) in new[] { ("idle node", idle), ("upload limit saturated by history", busy) })
            {
                var sorted = list.Order().ToList();
                Console.WriteLine($"| {name} | {sorted.Count} | {sorted[sorted.Count / 2]:0.0} ms | {sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * 0.99))]:0.0} ms | {sorted[^1]:0.0} ms |");
            }
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    static int Option(string[] args, string name, int fallback) =>
        args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).FirstOrDefault(fallback);
}
