using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using StoreSync.Libp2p.Discovery.Discv5;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Testing.Node;

namespace StoreSync.Benchmarks;

/// <summary>What a discv5 flood costs a real node (issue 16, bad input): its CPU per datagram, its memory, what it drops, and
/// whether an honest peer on another address is still answered, while one address floods junk and then FINDNODE requests.</summary>
/// <remarks>
/// Options: <c>--packets N</c> junk datagrams (default 200,000), <c>--findnodes N</c> FINDNODE requests in the second phase
/// (default 20,000, 500 in flight). Every loop is bounded by its count and by a 10-minute overall timeout. The honest peer
/// PINGs every 20 ms through both phases.
/// </remarks>
public static class Discv5FloodBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int packets = StorageBenchmark.Option(args, "--packets", 200_000), findnodes = StorageBenchmark.Option(args, "--findnodes", 20_000);
        using var overall = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var ct = overall.Token;
        Console.WriteLine($"discv5 flood benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {StorageBenchmark.LoadAverage()}");
        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Metrics = true, Args = ["--discv5-discovery", "true", "--discv5-udp-port", "0", "--shard", "0"] });
        var record = await node.RecordAsync(ct);
        var target = record.UdpEndPoint!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await using var honest = Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1), new Discv5Options { ListenAddress = IPAddress.Parse("127.0.0.9") });
        await honest.PingAsync(record, ct);
        await Task.Delay(TimeSpan.FromSeconds(8), ct); // past start-up (JIT, index builds), so the idle phase is the node's steady cost
        Console.WriteLine($"node idle: RSS {Rss(node.ProcessId) / 1048576.0:F0} MiB");
        Console.WriteLine("| phase | sent | node CPU | CPU per datagram, net of idle | dropped (reason) | honest PINGs: answered / sent, p50 / p99 | node RSS after |");
        Console.WriteLine("|---|---|---|---|---|---|---|");

        // 0. Idle: the honest peer's PINGs only, for the node's own CPU per second (timers, metrics, the PINGs).
        double idlePerSecond = await PhaseAsync("idle (PINGs only)", node, http, honest, record, async () =>
        {
            await Task.Delay(5000, ct);
            return 0;
        }, ["RateLimited"], 0, ct);

        // 1. Junk: random datagrams of 100 bytes from one address, as fast as one socket sends them.
        await PhaseAsync("junk from one address", node, http, honest, record, async () =>
        {
            using var junk = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            junk.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            var datagram = new byte[100];
            for (int i = 0; i < packets && !ct.IsCancellationRequested; i++)
            {
                RandomNumberGenerator.Fill(datagram);
                junk.SendTo(datagram, target);
                if (i % 2000 == 1999) await Task.Yield();
            }
            return packets;
        }, ["NotDiscv5", "RateLimited"], idlePerSecond, ct);

        // 2. FINDNODE from one handshaken peer, 500 in flight, no retries: the limiter answers what 100 tokens a second buy.
        await PhaseAsync("FINDNODE from one peer", node, http, honest, record, async () =>
        {
            await using var flooder = Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1),
                new Discv5Options { ListenAddress = IPAddress.Parse("127.0.0.3"), RequestTimeout = TimeSpan.FromMilliseconds(300), RequestRetries = 0 });
            await flooder.PingAsync(record, ct);
            long answered = 0;
            using var inFlight = new SemaphoreSlim(500);
            await Task.WhenAll(Enumerable.Range(0, findnodes).Select(async _ =>
            {
                await inFlight.WaitAsync(ct);
                try
                {
                    await flooder.FindNodeAsync(record, [0, 255, 256], ct);
                    Interlocked.Increment(ref answered);
                }
                catch (Discv5Exception) { }
                finally { inFlight.Release(); }
            }));
            Console.WriteLine($"  (FINDNODE: {answered:N0} of {findnodes:N0} answered)");
            return findnodes;
        }, ["RateLimited"], idlePerSecond, ct);
        return node.HasExited ? 1 : 0;
    }

    /// <returns>The node's CPU seconds per wall second in the phase.</returns>
    static async Task<double> PhaseAsync(string name, StoreNodeProcess node, HttpClient http, Discv5Node honest, EnrRecord record,
        Func<Task<int>> flood, string[] reasons, double idlePerSecond, CancellationToken ct)
    {
        var before = await DroppedAsync(http, node, reasons, ct);
        double cpuBefore = CpuSeconds(node.ProcessId);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pings = PingAsync(honest, record, stop.Token);
        var wall = Stopwatch.StartNew();
        int sent = await flood();
        await Task.Delay(500, ct); // what is queued in the socket is read
        wall.Stop();
        await stop.CancelAsync();
        var (answered, tried, rtts) = await pings;
        double cpu = CpuSeconds(node.ProcessId) - cpuBefore;
        var after = await DroppedAsync(http, node, reasons, ct);
        rtts.Sort();
        string Pct(double p) => rtts.Count == 0 ? "-" : $"{rtts[(int)Math.Min(rtts.Count - 1, p * rtts.Count)]:F2} ms";
        var drops = string.Join(", ", reasons.Select((r, i) => $"{after[i] - before[i]:N0} {r}"));
        string perDatagram = sent == 0 ? "-" : $"{(cpu - idlePerSecond * wall.Elapsed.TotalSeconds) * 1e6 / sent:F1} µs";
        Console.WriteLine($"| {name} | {sent:N0} in {wall.Elapsed.TotalSeconds:F1} s | {cpu:F2} s | {perDatagram} | {drops} | {answered} / {tried}, {Pct(0.5)} / {Pct(0.99)} | {Rss(node.ProcessId) / 1048576.0:F0} MiB |");
        return cpu / wall.Elapsed.TotalSeconds;
    }

    static async Task<(int Answered, int Tried, List<double> Rtts)> PingAsync(Discv5Node honest, EnrRecord record, CancellationToken ct)
    {
        var rtts = new List<double>();
        int tried = 0;
        while (!ct.IsCancellationRequested && tried < 30_000)
        {
            tried++;
            var t = Stopwatch.StartNew();
            try
            {
                await honest.PingAsync(record, ct);
                rtts.Add(t.Elapsed.TotalMilliseconds);
            }
            catch (Discv5Exception) { }
            catch (OperationCanceledException) { tried--; break; }
            try { await Task.Delay(20, ct); } catch (OperationCanceledException) { break; }
        }
        return (rtts.Count, tried, rtts);
    }

    static async Task<double[]> DroppedAsync(HttpClient http, StoreNodeProcess node, string[] reasons, CancellationToken ct)
    {
        var text = await http.GetStringAsync(node.Metrics, ct);
        return [.. reasons.Select(r => NodeReadings.Sample(text, "storesync_discv5_dropped_packets_total", ("reason", r)) ?? 0)];
    }

    /// <summary>utime + stime of the process from /proc (clock ticks of 1/100 s).</summary>
    static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    static long Rss(int pid) => RelayNodeProcess.StatusBytes("VmRSS:", pid);
}
