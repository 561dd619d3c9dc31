using System.Diagnostics;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Testing.Interop;
using StoreSync.Testing.Libp2p;

namespace StoreSync.Benchmarks;

/// <summary>One Noise + Yamux stream over loopback TCP and over WebSocket (/ws) (MB/s, CPU seconds per MB) and handshakes per
/// second, for our host and, as the reference, js-libp2p 3.x (@libp2p/tcp, @libp2p/websockets) on the same machine, in one run.</summary>
/// <remarks>Options: <c>--mib N</c> bytes per transfer (default 1024), <c>--runs N</c> C# transfers per transport (default 3),
/// <c>--handshakes N</c> (default 300),
/// <c>--no-js</c> skips the js reference. CPU is the sum over both ends (both hosts share our process; js runs two processes).</remarks>
public static class Libp2pBenchmark
{
    const string Sink = "/storesync/test/sink/1.0.0";
    static readonly string[] Transports = ["tcp", "ws"];

    public static async Task<int> RunAsync(string[] args)
    {
        int mib = Option(args, "--mib", 1024), handshakes = Option(args, "--handshakes", 300), runs = Option(args, "--runs", 3);
        bool js = !args.Contains("--no-js");
        using var overall = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        var ct = overall.Token;
        Console.WriteLine($"libp2p benchmark: {mib} MiB per transfer (best of {runs} for C# -> C#), {handshakes} handshakes, {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        // Best of --runs, TCP and WebSocket interleaved, so that neither gains from running later (JIT tiers, a neighbour's load).
        var ours = new Dictionary<string, double>();
        foreach (var (name, security) in new (string, Func<ISecurityProtocol>)[] { ("noise", () => new NoiseSecurity()), ("plaintext", () => new PlaintextSecurity()) })
        {
            await using var server = await StartAsync(security(), ct);
            await using var client = await StartAsync(security(), ct);
            var transports = name == "noise" ? Transports : ["tcp"];
            foreach (var transport in transports) await TransferAsync(client, Listening(server, transport), 64, ct); // warm-up: JIT, connection, windows
            for (int run = 0; run < runs; run++)
                foreach (var transport in transports)
                {
                    var target = Listening(server, transport);
                    var (seconds, cpu) = await MeasureAsync(() => TransferAsync(client, target, mib, ct));
                    double rate = Report($"C# -> C#  {name,-9} {transport,-3} 1 stream", mib, seconds, cpu);
                    ours[$"{name} {transport}"] = Math.Max(rate, ours.GetValueOrDefault($"{name} {transport}"));
                }
            if (name != "noise") continue;
            foreach (var transport in transports)
            {
                var (hs, hsCpu) = await MeasureAsync(() => HandshakesAsync(client, Listening(server, transport), handshakes, ct));
                Console.WriteLine($"C# -> C#  noise     {transport,-3} handshakes: {handshakes / hs:N0}/s ({hsCpu / handshakes * 1000:N2} ms CPU each, identify included)");
            }
        }
        Console.WriteLine($"C# -> C#  noise     best of {runs}: tcp {ours["noise tcp"]:N0} MB/s, ws {ours["noise ws"]:N0} MB/s; " +
            $"ws/tcp = {ours["noise ws"] / ours["noise tcp"]:P0} (target >= 70 %)");

        if (!js) return 0;
        await using (var jsServer = await JsLibp2pPeer.StartAsync("ed25519", ct, listenWebSocket: true))
        await using (var jsClient = await JsLibp2pPeer.StartAsync("ed25519", ct))
        await using (var host = await StartAsync(new NoiseSecurity(), ct))
        {
            var step = TimeSpan.FromMinutes(5);
            foreach (var transport in Transports)
            {
                var address = jsServer.Addresses.Single(a => a.Contains("/ws/", StringComparison.Ordinal) == (transport == "ws"));
                await jsClient.RunAsync("sink", new { addr = address, size = 64 << 20 }, step, ct);
                var before = await JsCpuAsync([jsServer, jsClient], ct);
                var sink = await jsClient.RunAsync("sink", new { addr = address, size = (long)mib << 20 }, step, ct);
                var cpu = await JsCpuAsync([jsServer, jsClient], ct) - before;
                double jsRate = Report($"js -> js  noise     {transport,-3} 1 stream", mib, sink["ms"]!.GetValue<double>() / 1000, cpu);
                Console.WriteLine($"C# -> C#  noise     {transport,-3} vs js -> js: {ours[$"noise {transport}"] / jsRate:P0}");
                before = await JsCpuAsync([jsServer, jsClient], ct);
                var hs = await jsClient.RunAsync("handshakes", new { addr = address, count = handshakes }, step, ct);
                cpu = await JsCpuAsync([jsServer, jsClient], ct) - before;
                Console.WriteLine($"js -> js  noise     {transport,-3} handshakes: {handshakes / (hs["ms"]!.GetValue<double>() / 1000):N0}/s ({cpu / handshakes * 1000:N2} ms CPU each, identify included)");

                // Mixed pairs: each side's implementation against the other's.
                var jsTarget = Multiaddr.Parse(address);
                await TransferAsync(host, jsTarget, 64, ct);
                var (s1, _) = await MeasureAsync(() => TransferAsync(host, jsTarget, mib, ct));
                Report($"C# -> js  noise     {transport,-3} 1 stream", mib, s1, double.NaN);
                var toUs = await jsClient.RunAsync("sink", new { addr = Listening(host, transport).ToString(), size = (long)mib << 20 }, step, ct);
                Report($"js -> C#  noise     {transport,-3} 1 stream", mib, toUs["ms"]!.GetValue<double>() / 1000, double.NaN);
            }
        }
        return 0;
    }

    /// <summary>The host's /tcp or /ws listen address.</summary>
    static Multiaddr Listening(Libp2pHost host, string transport) =>
        host.ListenAddresses.Single(a => a.ToString().Contains("/ws/", StringComparison.Ordinal) == (transport == "ws"));

    static async Task<Libp2pHost> StartAsync(ISecurityProtocol security, CancellationToken ct)
    {
        var host = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = security, MaxConnections = 10_000 });
        host.SetStreamHandler(Sink, SinkAsync);
        await host.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/ws")], ct);
        return host;
    }

    /// <summary>Reads everything, then answers with the byte count as text (the same contract as peer.mjs).</summary>
    static async Task SinkAsync(Libp2pStream stream, CancellationToken ct)
    {
        var buffer = new byte[256 * 1024];
        long total = 0;
        for (int n; (n = await stream.ReadAsync(buffer, ct)) > 0;) total += n;
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(total.ToString()), ct);
        await stream.CloseWriteAsync(ct);
    }

    static async Task TransferAsync(Libp2pHost client, Multiaddr target, int mib, CancellationToken ct)
    {
        await using var stream = await client.NewStreamAsync(target, Sink, ct);
        var chunk = new byte[256 * 1024];
        Random.Shared.NextBytes(chunk);
        long size = (long)mib << 20;
        for (long at = 0; at < size; at += chunk.Length) await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, size - at)), ct);
        await stream.CloseWriteAsync(ct);
        var reply = new byte[32];
        int got = 0;
        for (int n; (n = await stream.ReadAsync(reply.AsMemory(got), ct)) > 0;) got += n;
        if (System.Text.Encoding.ASCII.GetString(reply, 0, got) != size.ToString()) throw new InvalidOperationException("sink acknowledged a different size");
    }

    static async Task HandshakesAsync(Libp2pHost client, Multiaddr target, int count, CancellationToken ct)
    {
        for (int i = 0; i < count; i++)
        {
            var connection = await client.DialAsync(target, forceNew: true, ct);
            await connection.Identified.WaitAsync(ct);
            await connection.CloseAsync();
        }
    }

    static async Task<(double Seconds, double CpuSeconds)> MeasureAsync(Func<Task> run)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        await run();
        wall.Stop();
        process.Refresh();
        return (wall.Elapsed.TotalSeconds, (process.TotalProcessorTime - cpu).TotalSeconds);
    }

    static async Task<double> JsCpuAsync(JsLibp2pPeer[] peers, CancellationToken ct)
    {
        double total = 0;
        foreach (var peer in peers)
        {
            var u = await peer.RunAsync("cpu", new { }, TimeSpan.FromSeconds(10), ct);
            total += (u["userMicros"]!.GetValue<double>() + u["systemMicros"]!.GetValue<double>()) / 1e6;
        }
        return total;
    }

    /// <summary>Prints the line and returns the MB/s.</summary>
    static double Report(string what, int mib, double seconds, double cpu)
    {
        double mb = mib * 1.048576;
        var cpuText = double.IsNaN(cpu) ? "" : $", {cpu / mb * 1000:N2} ms CPU per MB ({cpu:N1} s CPU, both ends)";
        Console.WriteLine($"{what}: {mb / seconds:N0} MB/s ({mib} MiB in {seconds:N2} s){cpuText}");
        return mb / seconds;
    }

    static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }
}
