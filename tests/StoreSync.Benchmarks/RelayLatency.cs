using System.Diagnostics;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Benchmarks;

/// <summary>Publish-to-delivered per hop and publish-to-stored over three hops: a line of four Waku relay nodes
/// (each with its validator and store), the first publishing at a steady rate.</summary>
internal static class RelayLatency
{
    public sealed record Result(double[] HopP50Ms, double[] HopP99Ms, double PerHopP50Ms, double PerHopP99Ms, double StoredP50Ms,
        double StoredP99Ms, int Measured);

    public static async Task<Result> RunAsync(int messages, double rate, int payloadBytes, CancellationToken ct)
    {
        const int Nodes = 4;
        var line = new List<RelayBenchNode>();
        try
        {
            for (int i = 0; i < Nodes; i++) line.Add(await RelayBenchNode.StartAsync(store: true, ct));
            for (int i = 1; i < Nodes; i++) await line[i - 1].Host.DialAsync(Multiaddr.Parse(line[i].Address), ct);
            var wait = Stopwatch.StartNew();
            while (!Enumerable.Range(1, Nodes - 1).All(i => line[i - 1].Router.MeshPeers(RelayBenchNode.Topic).Contains(line[i].Host.PeerId)))
            {
                if (wait.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("the line's meshes did not form in 30 s");
                await Task.Delay(50, ct);
            }

            // delivered[hop][seq], stored[seq]: Stopwatch ticks from the publish.
            var delivered = new long[Nodes][];
            for (int h = 0; h < Nodes; h++) delivered[h] = new long[messages];
            var stored = new long[messages];
            long storedCount = 0;
            for (int h = 1; h < Nodes; h++)
            {
                int hop = h;
                line[h].Router.MessageDelivered += m =>
                {
                    if (RelayBenchMessage.TryRead(m.Data.Span, out _, out int seq, out long at) && seq < messages)
                        delivered[hop][seq] = Stopwatch.GetTimestamp() - at;
                };
            }
            line[Nodes - 1].Relay!.Ingest.BatchWritten += batch =>
            {
                long now = Stopwatch.GetTimestamp();
                foreach (var item in batch)
                    if (RelayBenchMessage.TryReadPayload(item.Message.Payload.Span, out _, out int seq, out long at) && seq < messages)
                    {
                        stored[seq] = now - at;
                        Interlocked.Increment(ref storedCount);
                    }
            };

            var filler = new byte[payloadBytes];
            Random.Shared.NextBytes(filler);
            var clock = Stopwatch.StartNew();
            for (int seq = 0; seq < messages; seq++)
            {
                double wait2 = seq / rate - clock.Elapsed.TotalSeconds;
                if (wait2 > 0.001) await Task.Delay(TimeSpan.FromSeconds(wait2), ct);
                await line[0].Router.PublishAsync(RelayBenchNode.Topic, RelayBenchMessage.Create(0, seq, payloadBytes, filler), ct);
            }
            var drain = Stopwatch.StartNew();
            while (Interlocked.Read(ref storedCount) < messages && drain.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10, ct);

            // The first tenth warms the JIT and the connections: not measured.
            int from = messages / 10;
            double[] p50 = new double[Nodes - 1], p99 = new double[Nodes - 1];
            var perHop = new List<double>();
            for (int h = 1; h < Nodes; h++)
            {
                var ms = Milliseconds(delivered[h], from);
                (p50[h - 1], p99[h - 1]) = (Percentile(ms, 0.50), Percentile(ms, 0.99));
                for (int s = from; s < messages; s++)
                    if (delivered[h][s] > 0 && (h == 1 || delivered[h - 1][s] > 0))
                        perHop.Add((delivered[h][s] - (h == 1 ? 0 : delivered[h - 1][s])) * 1000.0 / Stopwatch.Frequency);
            }
            perHop.Sort();
            var storedMs = Milliseconds(stored, from);
            return new Result(p50, p99, Percentile(perHop, 0.50), Percentile(perHop, 0.99), Percentile(storedMs, 0.50),
                Percentile(storedMs, 0.99), storedMs.Count);
        }
        finally
        {
            foreach (var node in line) await node.DisposeAsync();
        }
    }

    static List<double> Milliseconds(long[] ticks, int from)
    {
        var ms = new List<double>();
        for (int i = from; i < ticks.Length; i++)
            if (ticks[i] > 0) ms.Add(ticks[i] * 1000.0 / Stopwatch.Frequency);
        ms.Sort();
        return ms;
    }

    public static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
}
