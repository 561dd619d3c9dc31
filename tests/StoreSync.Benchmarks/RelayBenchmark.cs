using System.Diagnostics;
using StoreSync.Libp2p.Identity;
using StoreSync.Testing.Interop;

namespace StoreSync.Benchmarks;

/// <summary>Waku relay throughput and latency (issue 14 "Performance"): one node under test, in its own process, meshed with
/// six load peers on loopback (TCP, Noise, yamux, our gossipsub with Waku's options), storing what it accepts through
/// RelayValidator and RelayIngest into RocksDB; the same topology in js-libp2p 3.3.11 + @libp2p/gossipsub 17.1.1 as the
/// reference, in the same run; and publish-to-stored latency over a line of four nodes.</summary>
/// <remarks>Options: <c>--messages N</c> per measured run (default 30,000), <c>--window N</c> messages in flight per
/// publisher (64), <c>--rate N</c> total messages/s (0: as fast as the node under test passes them on), <c>--payload N</c>
/// bytes (1,024), <c>--warmup N</c> (3,000), <c>--latency-messages N</c> (3,000) at <c>--latency-rate N</c> (1,000/s),
/// <c>--js-messages N</c> (the same as --messages), <c>--no-js</c>, <c>--no-latency</c>.</remarks>
public static class RelayBenchmark
{
    const int Peers = 6;
    const int WarmupRounds = 8;

    sealed record Throughput(double MessagesPerSecond, double CpuMicrosPerMessage, double ForwardedPerSecond, bool Complete, int WarmupRounds = 1);

    public static async Task<int> RunAsync(string[] args)
    {
        int messages = Option(args, "--messages", 30_000), window = Option(args, "--window", 64), payload = Option(args, "--payload", 1024);
        int warmup = Option(args, "--warmup", 3_000), rate = Option(args, "--rate", 0);
        int latencyMessages = Option(args, "--latency-messages", 3_000), latencyRate = Option(args, "--latency-rate", 1_000);
        int jsMessages = Option(args, "--js-messages", messages);
        using var overall = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var ct = overall.Token;
        Console.WriteLine($"relay benchmark: 1 node under test + {Peers} peers on 127.0.0.1 (TCP, Noise, yamux, {Libp2p.Pubsub.GossipsubOptions.WakuRelayProtocolId}), " +
            $"{payload} B payloads, {messages:N0} messages (window {window}/publisher, rate {(rate > 0 ? $"{rate:N0}/s" : "unpaced")}), " +
            $"{Environment.ProcessorCount} cores, .NET {Environment.Version}, load {LoadAverage()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

        var ours = await OursAsync(messages, window, rate, payload, warmup, ct);
        if (!args.Contains("--no-latency"))
        {
            var l = await RelayLatency.RunAsync(latencyMessages, latencyRate, payload, ct);
            Console.WriteLine($"latency (line of 4 nodes, {latencyRate:N0} messages/s, {l.Measured:N0} measured): publish -> delivered " +
                $"1 hop p50/p99 {l.HopP50Ms[0]:N2}/{l.HopP99Ms[0]:N2} ms, 2 hops {l.HopP50Ms[1]:N2}/{l.HopP99Ms[1]:N2} ms, " +
                $"3 hops {l.HopP50Ms[2]:N2}/{l.HopP99Ms[2]:N2} ms; per hop p50/p99 {l.PerHopP50Ms:N2}/{l.PerHopP99Ms:N2} ms (target p99 <= 5 ms); " +
                $"publish -> stored after 3 hops p50/p99 {l.StoredP50Ms:N2}/{l.StoredP99Ms:N2} ms");
        }
        if (args.Contains("--no-js")) return 0;
        var js = await JsAsync(jsMessages, window, rate, payload, warmup, ours.WarmupRounds, ct);
        Console.WriteLine($"ours/js: throughput {ours.MessagesPerSecond / js.MessagesPerSecond:N2} x (target >= 3), " +
            $"CPU per message of the node under test {js.CpuMicrosPerMessage / ours.CpuMicrosPerMessage:N2} x less; load {LoadAverage()}");
        return 0;
    }

    static async Task<Throughput> OursAsync(int messages, int window, int rate, int payload, int warmup, CancellationToken ct)
    {
        await using var node = await RelayNodeProcess.StartAsync(ct);
        await using var peers = await RelayBenchPeers.StartAsync(Peers, node.Address, ct);
        await peers.WaitForMeshAsync(PeerId.Parse(node.PeerId), ct);
        // Warm-up until the JIT has settled (tiered compilation re-JITs hot methods for seconds, longer on a busy machine):
        // rounds of --warmup messages until one compiles at most 10 methods, at most WarmupRounds. (JIT time is wall time
        // of the compiling threads, so on a loaded machine it is not comparable with CPU time.)
        var before = await node.StatsAsync(ct);
        int rounds = 0;
        long lastMethods = 0;
        double lastCpu = 0;
        while (warmup > 0 && rounds < WarmupRounds)
        {
            rounds++;
            await peers.PublishAsync(warmup, window, rate, payload, ct);
            var next = await WaitStoredAsync(node, before.Stored + warmup, ct);
            (lastMethods, lastCpu) = (next.JitMethods - before.JitMethods, next.CpuSeconds - before.CpuSeconds);
            before = next;
            if (lastMethods <= 10) break;
        }
        Console.WriteLine($"C#: warm-up {rounds} x {warmup:N0} messages (the last: {lastCpu:N2} s CPU, {lastMethods} methods compiled)");
        long deliveredBefore = peers.Delivered;
        var (seconds, stalls, complete) = await peers.PublishAsync(messages, window, rate, payload, ct);
        var atForwarded = await node.StatsAsync(ct);
        var storedWait = Stopwatch.StartNew();
        var after = await WaitStoredAsync(node, before.Stored + messages, ct);
        double storedSeconds = seconds + storedWait.Elapsed.TotalSeconds;
        long received = after.Received - before.Received, forwarded = peers.Delivered - deliveredBefore;
        double cpuMicros = (after.CpuSeconds - before.CpuSeconds) * 1e6 / Math.Max(1, received);
        long allocated = after.AllocatedBytes - before.AllocatedBytes;
        Console.WriteLine($"C#: {messages:N0} messages in {seconds:N2} s{(complete ? "" : " (INCOMPLETE)")}, stalls {stalls}, refused {peers.Refused}; node under test (pid {node.ProcessId}):");
        Console.WriteLine($"  received {received / seconds:N0}/s ({received:N0}), validated {(atForwarded.Validated - before.Validated) / seconds:N0}/s, " +
            $"accepted {(after.Accepted - before.Accepted):N0}, duplicates {(after.Duplicates - before.Duplicates):N0}, " +
            $"stored {(after.Stored - before.Stored) / storedSeconds:N0}/s ({after.Stored - before.Stored:N0} in {after.Batches - before.Batches:N0} batches, " +
            $"last {storedWait.Elapsed.TotalMilliseconds:N0} ms after the last forward), forwarded {forwarded / (Peers - 1) / seconds:N0} messages/s " +
            $"({forwarded / seconds:N0} copies/s to {Peers - 1} peers each; frames sent {after.FramesSent - before.FramesSent:N0}, dropped {after.FramesDropped - before.FramesDropped:N0})");
        Console.WriteLine($"  CPU {cpuMicros:N1} µs per message (process CPU time delta / messages received) = {1e6 / cpuMicros:N0} messages/s per core (target >= 10,000); " +
            $"allocated {allocated / (double)Math.Max(1, received):N0} B per message, GCs gen0/1/2 {after.Gen0 - before.Gen0}/{after.Gen1 - before.Gen1}/{after.Gen2 - before.Gen2}, " +
            $"JIT {(after.JitSeconds - before.JitSeconds) * 1e6 / Math.Max(1, received):N1} µs per message ({after.JitMethods - before.JitMethods} methods compiled during the run)");
        Console.WriteLine($"  peak RSS {after.PeakRssBytes / 1048576.0:N0} MiB (RSS now {after.RssBytes / 1048576.0:N0} MiB); seen cache {after.SeenIds:N0} ids " +
            $"{after.SeenBytes / 1048576.0:N1} MiB, message cache {after.CachedMessages:N0} messages {after.CachedBytes / 1048576.0:N1} MiB; mesh {after.MeshPeers} peers");
        return new Throughput(received / seconds, cpuMicros, forwarded / (Peers - 1) / seconds, complete, rounds);
    }

    /// <summary>Polls the node until it stored <paramref name="stored"/> messages in all, or 30 s pass without progress.</summary>
    static async Task<RelayNodeStats> WaitStoredAsync(RelayNodeProcess node, long stored, CancellationToken ct)
    {
        var stats = await node.StatsAsync(ct);
        var lastChange = Stopwatch.StartNew();
        for (long last = stats.Stored; stats.Stored < stored && lastChange.Elapsed < TimeSpan.FromSeconds(30);)
        {
            await Task.Delay(5, ct);
            stats = await node.StatsAsync(ct);
            if (stats.Stored != last) (last, lastChange) = (stats.Stored, Stopwatch.StartNew());
        }
        return stats;
    }

    static async Task<Throughput> JsAsync(int messages, int window, int rate, int payload, int warmup, int jsWarmupRounds, CancellationToken ct)
    {
        var directory = InteropScripts.Directory("gossipsub", "bench-relay.mjs");
        await using var node = await JsLinePeer.StartAsync(directory, ["bench-relay.mjs", "--role", "node"], "@libp2p/gossipsub", ct);
        var address = node.Hello["addrs"]!.AsArray()[0]!.GetValue<string>();
        await using var peers = await JsLinePeer.StartAsync(directory, ["bench-relay.mjs", "--role", "peers", "--count", $"{Peers}", "--dial", address],
            "@libp2p/gossipsub", ct);
        var step = TimeSpan.FromMinutes(5);
        await peers.RunAsync("ready", new { }, TimeSpan.FromSeconds(30), ct);
        var load = new { messages = warmup, window, rate, payloadBytes = payload };
        for (int round = 0; round < jsWarmupRounds; round++) await peers.RunAsync("publish", load, step, ct);
        var before = await node.RunAsync("stats", new { }, TimeSpan.FromSeconds(10), ct);
        var run = await peers.RunAsync("publish", load with { messages = messages }, step, ct);
        var after = await node.RunAsync("stats", new { }, TimeSpan.FromSeconds(10), ct);
        double seconds = run["ms"]!.GetValue<double>() / 1000;
        bool complete = run["complete"]!.GetValue<bool>();
        long Delta(string key) => after[key]!.GetValue<long>() - before[key]!.GetValue<long>();
        long validated = Delta("validated"), delivered = Delta("delivered");
        double cpuMicros = Delta("cpuMicros") / (double)Math.Max(1, validated);
        Console.WriteLine($"js: {messages:N0} messages in {seconds:N2} s{(complete ? "" : " (INCOMPLETE)")}, stalls {run["stalls"]}; node under test: " +
            $"validated {validated / seconds:N0}/s ({validated:N0}), delivered {delivered:N0} (no store); " +
            $"CPU {cpuMicros:N1} µs per message = {1e6 / cpuMicros:N0} messages/s per core; peak RSS {after["maxRssBytes"]!.GetValue<long>() / 1048576.0:N0} MiB; " +
            $"seen cache {after["seenIds"]} ids, message cache {after["cachedMessages"]} messages; mesh {after["mesh"]} peers");
        return new Throughput(validated / seconds, cpuMicros, validated / seconds, complete);
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "?";

    static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }
}
