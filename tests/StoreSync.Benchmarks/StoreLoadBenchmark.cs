using System.Diagnostics;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Storage;
using StoreSync.Testing.Node;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Benchmarks;

/// <summary>A real <c>storesync node</c> process under load from many libp2p Store v3 clients (our client: TCP, Noise, Yamux), then
/// the same node with a per-peer rate limit while one peer floods it.</summary>
/// <remarks>
/// Options: <c>--clients N</c> (default 50: N hosts, each its own peer id and connection), <c>--queries N</c> (default 20,000, spread
/// evenly), <c>--messages N</c> in the store (default 100,000), <c>--rate N</c> the per-peer store limit of the second phase (default 20/s),
/// <c>--seconds N</c> length of the second phase (default 15). Every loop is bounded by its count and by a 10-minute overall timeout.
/// Phase 1 runs the node without a store rate limit (STORESYNC_StoreQueriesPerSecondPerPeer=0) so that the figures are the node's, not the limiter's.
/// </remarks>
public static class StoreLoadBenchmark
{
    static readonly string[] Pubsubs = ["/waku/2/rs/1/0", "/waku/2/rs/1/1"];
    static readonly string[] Topics = Enumerable.Range(0, 10).Select(i => $"/community/1/channel-{i}/proto").ToArray();

    public static async Task<int> RunAsync(string[] args)
    {
        int clients = Option(args, "--clients", 50), queries = Option(args, "--queries", 20_000), messages = Option(args, "--messages", 100_000);
        int rate = Option(args, "--rate", 20), seconds = Option(args, "--seconds", 15);
        using var overall = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var ct = overall.Token;
        var dataDir = Directory.CreateTempSubdirectory("storesync-load-").FullName;
        try
        {
            Console.WriteLine($"store load benchmark: {clients} clients, {queries:N0} queries, {messages:N0} messages stored, {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}");
            long t0 = Seed(dataDir, messages);
            var noLimit = new Dictionary<string, string> { ["STORESYNC_StoreQueriesPerSecondPerPeer"] = "0" };
            await using (var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = dataDir, Rest = false }, noLimit))
                await LoadAsync(node, clients, queries, t0, messages, ct);
            await using (var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = dataDir, Rest = false, Args = ["--rate-limit", $"store:{rate}/1s"] }))
                await FloodAsync(node, rate, seconds, t0, messages, ct);
            Console.WriteLine($"load average at the end {LoadAverage()}");
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
        return 0;
    }

    /// <summary>Messages of ~200 bytes, 1 ms apart, over two pubsub topics and ten content topics; returns the first timestamp.</summary>
    static long Seed(string dataDir, int count)
    {
        var random = new Random(7);
        long t0 = Timestamp.Now() - count * 1_000_000L;
        using var store = MessageStore.Open(dataDir);
        var batch = new List<IngestItem>(1000);
        var payload = new byte[150];
        for (int i = 0; i < count; i++)
        {
            random.NextBytes(payload);
            batch.Add(new IngestItem(Pubsubs[i % 2], new WakuMessage { Payload = ByteString.CopyFrom(payload), ContentTopic = Topics[random.Next(Topics.Length)], Timestamp = t0 + i * 1_000_000L }));
            if (batch.Count == batch.Capacity) { store.Ingest(batch); batch.Clear(); }
        }
        if (batch.Count > 0) store.Ingest(batch);
        return t0;
    }

    /// <summary>A 20-row page with data: random pubsub topic, one or three content topics, a random start, forward or backward;
    /// one query in ten is a lookup of 5 hashes instead.</summary>
    static StoreQueryRequest RandomQuery(Random random, long t0, int messages, IReadOnlyList<ByteString> knownHashes)
    {
        var request = new StoreQueryRequest { RequestId = Guid.NewGuid().ToString(), IncludeData = true, PaginationLimit = 20 };
        if (knownHashes.Count > 0 && random.Next(10) == 0)
        {
            for (int i = 0; i < 5; i++) request.MessageHashes.Add(knownHashes[random.Next(knownHashes.Count)]);
            return request;
        }
        request.PubsubTopic = Pubsubs[random.Next(2)];
        request.PaginationForward = random.Next(2) == 0;
        foreach (var t in Topics.OrderBy(_ => random.Next()).Take(random.Next(2) == 0 ? 1 : 3)) request.ContentTopics.Add(t);
        long start = t0 + (long)random.Next(messages) * 1_000_000L;
        if (request.PaginationForward) request.TimeStart = start; else request.TimeEnd = start;
        return request;
    }

    static Libp2pHost NewClient() => new(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() });

    static async Task LoadAsync(StoreNodeProcess node, int clients, int queries, long t0, int messages, CancellationToken ct)
    {
        var address = node.Multiaddr;
        var hosts = Enumerable.Range(0, clients).Select(_ => NewClient()).ToList();
        try
        {
            // Connect everyone and warm up (JIT on both sides, block cache); collect a few hashes for lookups.
            var known = new List<ByteString>();
            await Task.WhenAll(hosts.Select(h => h.DialAsync(address, ct)));
            foreach (var h in hosts.Take(5))
            {
                var page = await new StoreQueryClient(h).QueryAsync(address, RandomQuery(new Random(1), t0, messages, []), ct);
                known.AddRange(page.Messages.Select(m => m.MessageHash));
            }
            await Task.WhenAll(hosts.Select((h, i) => RunClientAsync(h, address, 10, new Random(1000 + i), t0, messages, known, ct)));

            var server = Process.GetProcessById(node.ProcessId);
            var serverCpu0 = server.TotalProcessorTime;
            var clientCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            var results = await Task.WhenAll(hosts.Select((h, i) =>
                RunClientAsync(h, address, queries / clients + (i < queries % clients ? 1 : 0), new Random(i), t0, messages, known, ct)));
            double elapsed = wall.Elapsed.TotalSeconds;
            server.Refresh();
            double serverCpu = (server.TotalProcessorTime - serverCpu0).TotalSeconds, clientCpu = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu0).TotalSeconds;

            var all = results.SelectMany(r => r.Latencies).ToArray();
            int errors = results.Sum(r => r.Errors), non200 = results.Sum(r => r.Non200), served = results.Sum(r => r.Messages);
            Console.WriteLine($"phase 1, no rate limit: {all.Length:N0} queries by {clients} clients in {elapsed:N2} s = {all.Length / elapsed:N0} queries/s ({served / elapsed:N0} messages/s served)");
            Console.WriteLine($"  latency per query (new stream, request, response): {Percentiles(all)}");
            Console.WriteLine($"  errors (exceptions) {errors}, responses other than 200: {non200}; node CPU {serverCpu:N1} s ({serverCpu * 1000 / all.Length:N3} ms per query), client CPU {clientCpu:N1} s; load average {LoadAverage()}");
            if (results.FirstOrDefault(r => r.FirstError is not null)?.FirstError is { } first) Console.WriteLine($"  first error: {first}");
        }
        finally
        {
            foreach (var h in hosts) await h.DisposeAsync();
        }
    }

    sealed record ClientResult(List<double> Latencies, int Errors, int Non200, int Messages, string? FirstError);

    /// <summary>Closed loop: <paramref name="count"/> queries one after the other.</summary>
    static async Task<ClientResult> RunClientAsync(Libp2pHost host, Multiaddr address, int count, Random random, long t0, int messages,
        IReadOnlyList<ByteString> known, CancellationToken ct)
    {
        var client = new StoreQueryClient(host);
        var latencies = new List<double>(count);
        int errors = 0, non200 = 0, served = 0;
        string? firstError = null;
        for (int i = 0; i < count; i++)
        {
            var request = RandomQuery(random, t0, messages, known);
            long start = Stopwatch.GetTimestamp();
            try
            {
                var response = await client.QueryAsync(address, request, ct);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                if (response.StatusCode != 200) { non200++; firstError ??= $"{response.StatusCode} {response.StatusDesc}"; }
                if (response.RequestId != request.RequestId) { errors++; firstError ??= "request id not echoed"; }
                served += response.Messages.Count;
            }
            catch (Exception e) when (e is IOException or TimeoutException or InvalidDataException or EndOfStreamException or StoreSync.Libp2p.Multistream.MultistreamException)
            {
                errors++;
                firstError ??= $"{e.GetType().Name}: {e.Message}";
            }
        }
        return new ClientResult(latencies, errors, non200, served, firstError);
    }

    /// <summary>One peer floods the node (16 queries at a time, closed loop) while ten others query at 2 per second each, first
    /// without the flood (the baseline), then with it.</summary>
    static async Task FloodAsync(StoreNodeProcess node, int rate, int seconds, long t0, int messages, CancellationToken ct)
    {
        var address = node.Multiaddr;
        await using var greedy = NewClient();
        var polite = Enumerable.Range(0, 10).Select(_ => NewClient()).ToList();
        try
        {
            await greedy.DialAsync(address, ct);
            await Task.WhenAll(polite.Select(h => h.DialAsync(address, ct)));
            await Task.WhenAll(polite.Select(h => RunClientAsync(h, address, 5, new Random(1), t0, messages, [], ct))); // warm-up
            var baseline = await PoliteAsync(polite, address, TimeSpan.FromSeconds(Math.Max(3, seconds / 3)), t0, messages, ct);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var floodClient = new StoreQueryClient(greedy);
            var ok = new List<double>();
            var limited = new List<double>();
            int errors = 0;
            var server = Process.GetProcessById(node.ProcessId);
            var serverCpu0 = server.TotalProcessorTime;
            var floodWall = Stopwatch.StartNew();
            var flood = Task.WhenAll(Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                var random = new Random(500 + w);
                for (int i = 0; i < 100_000 && !stop.IsCancellationRequested; i++) // bounded by count and by the phase length
                {
                    long start = Stopwatch.GetTimestamp();
                    try
                    {
                        var r = await floodClient.QueryAsync(address, RandomQuery(random, t0, messages, []), ct);
                        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        lock (ok) (r.StatusCode == 429 ? limited : ok).Add(ms);
                    }
                    catch (Exception e) when (e is IOException or TimeoutException or InvalidDataException or EndOfStreamException)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            }, ct)));
            var during = await PoliteAsync(polite, address, TimeSpan.FromSeconds(seconds), t0, messages, ct);
            stop.Cancel();
            await flood;
            double floodSeconds = floodWall.Elapsed.TotalSeconds;
            server.Refresh();
            double serverCpu = (server.TotalProcessorTime - serverCpu0).TotalSeconds;

            Console.WriteLine($"phase 2, --rate-limit store:{rate}/1s: one peer floods with 16 queries in flight for {floodSeconds:N1} s: {ok.Count:N0} answered 200 ({ok.Count / floodSeconds:N1}/s), {limited.Count:N0} answered 429 ({limited.Count / floodSeconds:N0}/s), {errors} errors");
            Console.WriteLine($"  node CPU during the flood {serverCpu:N1} s ({serverCpu * 1000 / Math.Max(1, ok.Count + limited.Count + during.Queries):N3} ms per answer, 429s included)");
            Console.WriteLine($"  flood's 200s: {Percentiles([.. ok])}");
            Console.WriteLine($"  flood's 429s: {Percentiles([.. limited])}");
            Console.WriteLine($"  10 other peers at 2 queries/s each, alone: {baseline.Summary}");
            Console.WriteLine($"  10 other peers at 2 queries/s each, during the flood: {during.Summary}; load average {LoadAverage()}");
        }
        finally
        {
            foreach (var h in polite) await h.DisposeAsync();
        }
    }

    sealed record PoliteResult(string Summary, int Queries);

    static async Task<PoliteResult> PoliteAsync(List<Libp2pHost> hosts, Multiaddr address, TimeSpan length, long t0, int messages, CancellationToken ct)
    {
        int perPeer = Math.Max(1, (int)(length.TotalSeconds * 2));
        var results = await Task.WhenAll(hosts.Select((h, i) => Task.Run(async () =>
        {
            var client = new StoreQueryClient(h);
            var random = new Random(900 + i);
            var latencies = new List<double>();
            var codes = new Dictionary<uint, int>();
            using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
            for (int q = 0; q < perPeer && await pace.WaitForNextTickAsync(ct); q++)
            {
                long start = Stopwatch.GetTimestamp();
                var r = await client.QueryAsync(address, RandomQuery(random, t0, messages, []), ct);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                codes[r.StatusCode] = codes.GetValueOrDefault(r.StatusCode) + 1;
            }
            return (latencies, codes);
        }, ct)));
        var all = results.SelectMany(r => r.latencies).ToArray();
        var codes = results.SelectMany(r => r.codes).GroupBy(c => c.Key).OrderBy(g => g.Key).Select(g => $"{g.Sum(c => c.Value)} x {g.Key}");
        return new PoliteResult($"{all.Length} queries, {string.Join(", ", codes)}, {Percentiles(all)}", all.Length);
    }

    static string Percentiles(double[] ms)
    {
        if (ms.Length == 0) return "none";
        Array.Sort(ms);
        double P(double p) => ms[Math.Min(ms.Length - 1, (int)(ms.Length * p))];
        return $"p50 {P(0.50):N2} ms, p90 {P(0.90):N2} ms, p99 {P(0.99):N2} ms, max {ms[^1]:N2} ms";
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out int v) ? v : fallback;
    }
}
