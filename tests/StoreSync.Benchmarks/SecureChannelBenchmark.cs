using System.Diagnostics;
using System.Security.Cryptography;
using StoreSync.Libp2p.Noise;
using StoreSync.Testing.Libp2p;

namespace StoreSync.Benchmarks;

/// <summary>Noise SecureChannel encrypt + decrypt, both directions at once over an in-memory pipe (spec/libp2p.md, throughput 1).</summary>
/// <remarks>Options: <c>--mib N</c> bytes each way per run (default 16), <c>--runs N</c> (default 5). One 1 MiB exchange first, so
/// the runs see optimised code rather than the JIT. MiB/s counts plaintext bytes moved per wall-clock second; allocation is
/// process-wide and includes the receive buffers.</remarks>
public static class SecureChannelBenchmark
{
    const int Chunk = 1 << 20;

    public static async Task<int> RunAsync(string[] args)
    {
        int mib = StorageBenchmark.Option(args, "--mib", 16), runs = StorageBenchmark.Option(args, "--runs", 5);
        using var overall = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var ct = overall.Token;
        var (initiator, responder) = await NoisePair.ConnectAsync(ct);
        await using var _ = initiator;
        await using var __ = responder;
        var fromInitiator = RandomNumberGenerator.GetBytes(mib << 20);
        var fromResponder = RandomNumberGenerator.GetBytes(mib << 20);
        Console.WriteLine($"secure-channel benchmark: 2 x {mib} MiB per run, {runs} runs, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        await ExchangeAsync(initiator, responder, fromInitiator[..Chunk], fromResponder[..Chunk], ct);
        for (int run = 1; run <= runs; run++)
        {
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var started = Stopwatch.StartNew();
            await ExchangeAsync(initiator, responder, fromInitiator, fromResponder, ct);
            double seconds = started.Elapsed.TotalSeconds;
            long allocatedKiB = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / 1024;
            Console.WriteLine($"SecureChannel in-memory: {2.0 * mib / seconds:F0} MiB/s encrypt+decrypt (2 x {mib} MiB in {seconds * 1000:F0} ms), {allocatedKiB} KiB allocated in the process");
        }
        return 0;
    }

    static async Task ExchangeAsync(SecureChannel a, SecureChannel b, byte[] fromA, byte[] fromB, CancellationToken ct)
    {
        var received = await Task.WhenAll(
            Task.Run(async () => { await WriteAllAsync(a, fromA, ct); return Array.Empty<byte>(); }, ct),
            Task.Run(async () => { await WriteAllAsync(b, fromB, ct); return Array.Empty<byte>(); }, ct),
            Task.Run(() => ReadAllAsync(b, fromA.Length, ct), ct),
            Task.Run(() => ReadAllAsync(a, fromB.Length, ct), ct));
        // A benchmark of a channel that corrupts data would measure nothing.
        if (!received[2].AsSpan().SequenceEqual(fromA) || !received[3].AsSpan().SequenceEqual(fromB))
            throw new InvalidDataException("received bytes differ from the sent bytes");
    }

    static async Task WriteAllAsync(Stream s, byte[] data, CancellationToken ct)
    {
        for (int o = 0; o < data.Length; o += Chunk)
            await s.WriteAsync(data.AsMemory(o, Math.Min(Chunk, data.Length - o)), ct);
        await s.FlushAsync(ct);
    }

    static async Task<byte[]> ReadAllAsync(Stream s, int length, CancellationToken ct)
    {
        var received = new byte[length];
        await s.ReadExactlyAsync(received, ct);
        return received;
    }
}
