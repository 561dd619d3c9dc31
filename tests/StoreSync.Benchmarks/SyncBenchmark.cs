using System.Diagnostics;
using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;
using StoreSync.Reconciliation.Nwaku;

namespace StoreSync.Benchmarks;

/// <summary>Store sync: two in-process stores of n items differing by d (half on each side), both protocols.</summary>
/// <remarks>
/// Options: <c>--n 100000,1000000</c>, <c>--d 0,0.0001,0.001,0.01,0.1</c> (fractions of n), <c>--modes native,nwaku</c>,
/// <c>--seed 1</c>. Items: timestamps uniform over 24 h, random hashes. Prints one markdown row per run.
/// </remarks>
public static class SyncBenchmark
{
    const long T0 = 1_700_000_000_000_000_000;
    const long Day = 86_400_000_000_000;

    public static int Run(string[] args)
    {
        var sizes = List(args, "--n", "100000,1000000").Select(long.Parse).ToArray();
        var fractions = List(args, "--d", "0,0.0001,0.001,0.01,0.1").Select(double.Parse).ToArray();
        var modes = List(args, "--modes", "native,nwaku");
        int seed = int.Parse(List(args, "--seed", "1")[0]);
        Console.WriteLine($"store sync benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine("| mode | n | d | lower bound | round trips | bytes A→B | bytes B→A | total / bound | wall | CPU | index build (1 side) | peak RSS |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (long n in sizes)
            foreach (double f in fractions)
            {
                long d = 2 * (long)Math.Round(n * f / 2);
                var (shared, onlyA, onlyB) = Generate(n, d, seed);
                var storeA = new MergedSyncItems(shared, onlyA);
                var storeB = new MergedSyncItems(shared, onlyB);
                var build = Stopwatch.StartNew();
                var indexA = FingerprintIndex.Build(storeA);
                double buildSeconds = build.Elapsed.TotalSeconds;
                var indexB = FingerprintIndex.Build(storeB);
                foreach (var mode in modes)
                {
                    GC.Collect();
                    var row = Measure(mode, indexA, indexB, onlyA, onlyB);
                    long bound = d * 40;
                    string ratio = d == 0 ? "–" : $"{(double)(row.AtoB + row.BtoA) / bound:N2}";
                    Console.WriteLine($"| {mode} | {n:N0} | {d:N0} | {bound:N0} | {row.RoundTrips} | {row.AtoB:N0} | {row.BtoA:N0} | {ratio} | {row.Wall * 1000:N0} ms | {row.Cpu * 1000:N0} ms | {buildSeconds:N2} s | {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20):N0} MiB |");
                }
                GC.KeepAlive(indexA);
                GC.KeepAlive(indexB);
            }
        return 0;
    }

    record Row(int RoundTrips, long AtoB, long BtoA, double Wall, double Cpu);

    static Row Measure(string mode, ISyncItemSource a, ISyncItemSource b, SyncItem[] onlyA, SyncItem[] onlyB)
    {
        var limits = new SyncLimits { MaxFrameBytes = 1 << 30 };
        ReconciliationSession sa, sb;
        if (mode == "native")
        {
            sa = new NativeReconciliation(SyncScope.All, _ => a, T0, T0 + 2 * Day, limits: limits);
            sb = new NativeReconciliation(SyncScope.All, _ => b, limits: limits);
        }
        else
        {
            sa = new NwakuReconciliation(SyncScope.All, _ => a, T0, T0 + 2 * Day, limits);
            sb = new NwakuReconciliation(SyncScope.All, _ => b, limits: limits);
        }
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        byte[]? frame = sa.Initiate();
        int frames = 1;
        var (to, from) = (sb, sa);
        while (frame is not null)
        {
            frame = to.Receive(frame);
            if (frame is not null) frames++;
            (to, from) = (from, to);
        }
        double wallSeconds = wall.Elapsed.TotalSeconds;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        // Check the outcome: each side must push exactly its own extras (native: and know what it gets).
        if (!sa.ToSend.SetEquals(onlyA) || !sb.ToSend.SetEquals(onlyB))
            throw new InvalidOperationException($"{mode}: wrong result ({sa.ToSend.Count}/{onlyA.Length}, {sb.ToSend.Count}/{onlyB.Length})");
        if (mode == "native" && (!sa.ToReceive.SetEquals(onlyB) || !sb.ToReceive.SetEquals(onlyA)))
            throw new InvalidOperationException($"{mode}: incomplete knowledge of what will arrive");
        return new Row((frames + 1) / 2, sa.BytesSent, sb.BytesSent, wallSeconds, cpuSeconds);
    }

    // Items in timestamp order by construction (no sort of 10^7 items) over about a day (the sync range is two days,
    // so every item is in it); d of them go to one side only.
    static (SyncItem[] Shared, SyncItem[] OnlyA, SyncItem[] OnlyB) Generate(long n, long d, int seed)
    {
        long total = n + d / 2;
        var rng = new Random(seed);
        var chosen = new HashSet<long>();
        while (chosen.Count < d) chosen.Add(rng.NextInt64(total));
        var shared = new SyncItem[total - d];
        var onlyA = new SyncItem[d / 2];
        var onlyB = new SyncItem[d / 2];
        int s = 0, a = 0, b = 0;
        long gap = Math.Max(1, Day / total);
        long ts = T0;
        ulong x = (ulong)seed * 0x9E3779B97F4A7C15UL + 1;
        for (long i = 0; i < total; i++)
        {
            ts += 1 + (long)(Next(ref x) % (ulong)(2 * gap));
            var item = new SyncItem(ts, new MessageHash(Next(ref x), Next(ref x), Next(ref x), Next(ref x)));
            if (!chosen.Contains(i)) shared[s++] = item;
            else if (a < onlyA.Length && (b == onlyB.Length || (Next(ref x) & 1) == 0)) onlyA[a++] = item;
            else onlyB[b++] = item;
        }
        return (shared, onlyA, onlyB);
    }

    static ulong Next(ref ulong x)
    {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        return x * 0x2545F4914F6CDD1DUL;
    }

    static string[] List(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return (i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback).Split(',', StringSplitOptions.RemoveEmptyEntries);
    }
}
