using System.Diagnostics;
using System.Globalization;
using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;
using StoreSync.Reconciliation.Nwaku;

namespace StoreSync.Benchmarks;

/// <summary>Store sync: two in-process stores of n items differing by d (half on each side), both protocols.</summary>
/// <remarks>
/// Options: <c>--n 100000,1000000,10000000</c>, <c>--d 0,0.0001,0.001,0.01,0.1</c> (fractions of n), <c>--modes native,nwaku</c>,
/// <c>--seed 1</c>, <c>--tuning Name=value,...</c> (a <see cref="NativeTuning"/> for both native peers), <c>--label text</c>,
/// <c>--trace</c> (bytes per entry type), <c>--in-process</c> (no child process per row), <c>--layout uniform|clustered|newest</c>,
/// <c>--version 4|3|2</c> (the native frame version both peers speak, as multistream would pick it with an older peer),
/// <c>--ablation [--seeds 1,2,3]</c> (the native-mode ideas one by one, averaged over seeds). Items: timestamps spread over a
/// day, random hashes; each store holds n items, d/2 of them its own. Every row runs in a fresh child process so its
/// peak RSS is its own; it prints one markdown row and checks the outcome against the generated difference.
/// </remarks>
public static class SyncBenchmark
{
    const long T0 = 1_700_000_000_000_000_000;
    const long Day = 86_400_000_000_000;

    public static int Run(string[] args)
    {
        var sizes = List(args, "--n", "100000,1000000").Select(long.Parse).ToArray();
        var fractions = List(args, "--d", "0,0.0001,0.001,0.01,0.1").Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        var modes = List(args, "--modes", "native,nwaku");
        if (args.Contains("--child")) return Child(args, sizes[0], fractions[0], modes[0]);
        if (args.Contains("--ablation")) return Ablation(args, sizes, fractions);

        Console.WriteLine($"store sync benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}; {Uptime()}");
        Console.WriteLine("| label | mode | n | d | lower bound d×40 B | round trips (target) | bytes A→B | bytes B→A | total / bound | wall | CPU | peak RSS | RSS before sync | index build (1 side) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (long n in sizes)
            foreach (double f in fractions)
                foreach (var mode in modes)
                {
                    var childArgs = Replace(Replace(Replace(args, "--n", n.ToString(CultureInfo.InvariantCulture)),
                        "--d", f.ToString("R", CultureInfo.InvariantCulture)), "--modes", mode);
                    int rc = args.Contains("--in-process") ? Child(childArgs, n, f, mode) : RunChild(childArgs);
                    if (rc != 0) return rc;
                }
        Console.WriteLine($"finished; {Uptime()}");
        return 0;
    }

    static int RunChild(string[] args) => RunChild(args, out _);

    static int RunChild(string[] args, out string? output, bool capture = false)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = capture };
        start.ArgumentList.Add("sync");
        foreach (var a in args) start.ArgumentList.Add(a);
        start.ArgumentList.Add("--child");
        using var child = Process.Start(start)!;
        output = capture ? child.StandardOutput.ReadToEnd() : null;
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>The native-mode ideas one at a time against the default, each averaged over several seeds (spec/sync.md §3.5).</summary>
    static readonly (string Label, string Tuning)[] Variants =
    [
        ("default", ""),
        ("density from count differences only, uncapped (the first version)", "AgreementDensity=false,UnconfirmedFanoutCap=65536"),
        ("density from count differences only, capped", "AgreementDensity=false"),
        ("no cap on unconfirmed splits", "UnconfirmedFanoutCap=65536"),
        ("unconfirmed splits ≤ 256", "UnconfirmedFanoutCap=256"),
        ("no single-difference search", "SingleDifferenceSearch=false"),
        ("fixed fan-out 16 (negentropy-like)", "FixedFanout=16"),
        ("fixed fan-out 16, no single-difference search", "FixedFanout=16,SingleDifferenceSearch=false"),
        ("1 slice per expected difference", "SlicesPerDifference=1"),
        ("1.5 slices per expected difference", "SlicesPerDifference=1.5"),
        ("3 slices per expected difference", "SlicesPerDifference=3"),
        ("4 slices per expected difference", "SlicesPerDifference=4"),
        ("first split ≥ 64 slices", "MinFanoutLarge=64"),
        ("first split ≥ 256 slices", "MinFanoutLarge=256"),
        ("item lists from ≤ 1 item", "ItemsThreshold=1"),
        ("item lists from ≤ 4 items", "ItemsThreshold=4"),
        ("item lists from ≤ 8 items", "ItemsThreshold=8"),
        ("list before bouncing (the first version)", "BounceBeforeItems=false"),
        ("8-byte fingerprints (the first version)", "FingerprintBytes=8"),
        ("5-byte fingerprints", "FingerprintBytes=5"),
        ("4-byte fingerprints", "FingerprintBytes=4"),
    ];

    static int Ablation(string[] args, long[] sizes, double[] fractions)
    {
        var seeds = List(args, "--seeds", "1,2,3");
        var only = args.Contains("--variants") ? args[Array.IndexOf(args, "--variants") + 1].Split(';') : [];
        string layout = List(args, "--layout", "uniform")[0];
        Console.WriteLine($"native-mode ablation, {layout} differences, mean over seeds {string.Join(',', seeds)}; {Uptime()}");
        Console.WriteLine("| variant | n | d | round trips | total bytes | total / bound | CPU |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var (label, tuning) in Variants)
        {
            if (only.Length > 0 && !only.Contains(label) && !only.Contains(tuning)) continue;
            foreach (long n in sizes)
                foreach (double f in fractions)
                {
                    double rts = 0, bytes = 0, ratio = 0, cpu = 0;
                    foreach (var seed in seeds)
                    {
                        string[] childArgs = ["--n", $"{n}", "--d", f.ToString("R", CultureInfo.InvariantCulture), "--modes", "native", "--seed", seed, "--label", "x", "--layout", layout];
                        if (tuning.Length > 0) childArgs = [.. childArgs, "--tuning", tuning];
                        if (RunChild(childArgs, out var row, capture: true) != 0) return 1;
                        var cells = row!.Split('|').Select(c => c.Trim()).ToArray();
                        rts += double.Parse(cells[6].Split(' ')[0], CultureInfo.InvariantCulture);
                        bytes += double.Parse(cells[7], NumberStyles.AllowThousands, CultureInfo.InvariantCulture) + double.Parse(cells[8], NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
                        ratio += cells[9] == "–" ? 0 : double.Parse(cells[9], CultureInfo.InvariantCulture);
                        cpu += double.Parse(cells[11].Split(' ')[0], NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
                    }
                    int k = seeds.Length;
                    long d = 2 * (long)Math.Round(n * f / 2);
                    Console.WriteLine($"| {label} | {n:N0} | {d:N0} | {rts / k:N1} | {bytes / k:N0} | {ratio / k:N2} | {cpu / k:N0} ms |");
                }
        }
        Console.WriteLine($"finished; {Uptime()}");
        return 0;
    }

    static int Child(string[] args, long n, double fraction, string mode)
    {
        int seed = int.Parse(List(args, "--seed", "1")[0], CultureInfo.InvariantCulture);
        var tuning = ParseTuning(List(args, "--tuning", "").FirstOrDefault() is null ? "" : string.Join(',', List(args, "--tuning", "")));
        int li = Array.IndexOf(args, "--label");
        string label = li >= 0 && li + 1 < args.Length ? args[li + 1] : mode == "native" && tuning == NativeTuning.Default ? "default" : mode == "native" ? "tuned" : "nwaku";

        long d = 2 * (long)Math.Round(n * fraction / 2);
        string layout = List(args, "--layout", "uniform")[0];
        var (shared, onlyA, onlyB) = Generate(n, d, seed, layout);
        var build = Stopwatch.StartNew();
        var indexA = FingerprintIndex.Build(new MergedSyncItems(shared, onlyA));
        double buildSeconds = build.Elapsed.TotalSeconds;
        var indexB = FingerprintIndex.Build(new MergedSyncItems(shared, onlyB));
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        long before = ProcStatus("VmRSS");

        byte version = byte.Parse(List(args, "--version", $"{NativeReconciliation.Version}")[0], CultureInfo.InvariantCulture);
        var row = Measure(mode, indexA, indexB, onlyA, onlyB, tuning, args.Contains("--trace"), version);
        long peak = row.PeakRss;
        long bound = d * 40;
        string ratio = d == 0 ? "–" : $"{(double)(row.AtoB + row.BtoA) / bound:N2}";
        string target = d == 0 ? "1" : $"{(int)Math.Ceiling(Math.Log2((double)n / d) / 3) + 3}";
        Console.WriteLine($"| {label} | {mode} | {n:N0} | {d:N0} | {bound:N0} | {row.RoundTrips} ({target}) | {row.AtoB:N0} | {row.BtoA:N0} | {ratio} | " +
                          $"{row.Wall * 1000:N0} ms | {row.Cpu * 1000:N0} ms | {peak >> 20:N0} MiB | {before >> 20:N0} MiB | {buildSeconds:N2} s |");
        GC.KeepAlive(shared);
        return 0;
    }

    record Row(int RoundTrips, long AtoB, long BtoA, double Wall, double Cpu, long PeakRss);

    static Row Measure(string mode, ISyncItemSource a, ISyncItemSource b, SyncItem[] onlyA, SyncItem[] onlyB, NativeTuning tuning, bool trace, byte version)
    {
        int maxNodes = int.Parse(Environment.GetEnvironmentVariable("SYNC_MAX_NODES") ?? $"{SyncLimits.Default.MaxRangesPerMessage}", CultureInfo.InvariantCulture);
        var limits = new SyncLimits { MaxFrameBytes = 1 << 30, MaxRangesPerMessage = maxNodes };
        ReconciliationSession sa, sb;
        if (mode == "native")
        {
            sa = new NativeReconciliation(SyncScope.All, _ => a, T0, T0 + 2 * Day, long.MinValue, limits, tuning) { ProtocolVersion = version };
            sb = new NativeReconciliation(SyncScope.All, _ => b, 0, 0, long.MinValue, limits, tuning) { ProtocolVersion = version };
        }
        else if (mode == "nwaku")
        {
            sa = new NwakuReconciliation(SyncScope.All, _ => a, T0, T0 + 2 * Day, limits);
            sb = new NwakuReconciliation(SyncScope.All, _ => b, limits: limits);
        }
        else throw new ArgumentException($"unknown mode {mode}");
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        int[] gcs = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        byte[]? frame = sa.Initiate();
        int frames = 1;
        var (to, from) = (sb, sa);
        var sizes = new List<int> { frame.Length };
        var perFrame = new List<string>();
        while (frame is not null)
        {
            long[] entriesBefore = trace && to is NativeReconciliation tb ? Enum.GetValues<EntryType>().Select(tb.EntriesSent).ToArray() : [];
            long[] bytesBefore = trace && to is NativeReconciliation tb2 ? Enum.GetValues<EntryType>().Select(tb2.EntryBytesSent).ToArray() : [];
            frame = to.Receive(frame);
            if (frame is not null) { frames++; sizes.Add(frame.Length); }
            if (frame is not null && trace && to is NativeReconciliation ta)
                perFrame.Add($"  frame {frames}: " + string.Join(", ", Enum.GetValues<EntryType>()
                    .Select(t => (t, n: ta.EntriesSent(t) - entriesBefore[(int)t], b: ta.EntryBytesSent(t) - bytesBefore[(int)t]))
                    .Where(x => x.n > 0).Select(x => $"{x.t} {x.n:N0} ({x.b:N0} B)")));
            if (Environment.GetEnvironmentVariable("SYNC_LIVE") is not null) Console.Error.WriteLine($"  live after frame {frames}: {GC.GetTotalMemory(true) >> 20} MiB, RSS {ProcStatus("VmRSS") >> 20} MiB");
            (to, from) = (from, to);
        }
        double wallSeconds = wall.Elapsed.TotalSeconds;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        long peakRss = ProcStatus("VmHWM"); // before the checks below, which build hash sets of their own
        // Check the outcome: each side must push exactly its own extras (native: and know what it gets).
        // Native: what a Closing entry offered is pushed too (the peer keeps what it lacks), so ToSend ⊆ extras ⊆ ToSend ∪ Offered.
        if (!Pushes(sa, onlyA) || !Pushes(sb, onlyB))
            throw new InvalidOperationException($"{mode}: wrong result ({sa.ToSend.Count}/{onlyA.Length}, {sb.ToSend.Count}/{onlyB.Length})");
        // Native: each side knows what will arrive, listed or (in its blind ranges, where it holds nothing) counted.
        if (sa is NativeReconciliation ka && sb is NativeReconciliation kb && (!Announced(ka, onlyB) || !Announced(kb, onlyA)))
            throw new InvalidOperationException($"{mode}: incomplete knowledge of what will arrive");
        if (trace)
        {
            Console.Error.WriteLine($"  allocated during sync: {(GC.GetTotalAllocatedBytes(precise: true) - allocated) >> 20:N0} MiB; collections gen0/1/2: " +
                $"{GC.CollectionCount(0) - gcs[0]}/{GC.CollectionCount(1) - gcs[1]}/{GC.CollectionCount(2) - gcs[2]}");
            Console.Error.WriteLine($"  frames: {string.Join(' ', sizes)}");
            foreach (var line in perFrame) Console.Error.WriteLine(line);
            if (a is FingerprintIndex ia && b is FingerprintIndex ib) Console.Error.WriteLine($"  store reads: A {Reads(ia)} B {Reads(ib)}");
            if (sa is NativeReconciliation na && sb is NativeReconciliation nb)
                foreach (var type in Enum.GetValues<EntryType>())
                    Console.Error.WriteLine($"  {type,-11} A: {na.EntriesSent(type),9:N0} entries {na.EntryBytesSent(type),11:N0} B   B: {nb.EntriesSent(type),9:N0} entries {nb.EntryBytesSent(type),11:N0} B");
        }
        // Round trips: frames in both directions; the last frame may travel alone (half a trip counts as one).
        return new Row((frames + 1) / 2, sa.BytesSent, sb.BytesSent, wallSeconds, cpuSeconds, peakRss);
    }

    static bool Pushes(ReconciliationSession side, SyncItem[] extras)
    {
        if (side is not NativeReconciliation native || native.Offered.Count == 0) return side.ToSend.SetEquals(extras);
        var all = extras.ToHashSet();
        return side.ToSend.All(all.Contains) && extras.All(x => side.ToSend.Contains(x) || native.Offered.Contains(x));
    }

    static bool Announced(NativeReconciliation side, SyncItem[] peerExtras)
    {
        var blind = side.BlindRanges;
        bool Blind(SyncItem x) => blind.Any(r => x >= r.From && x < r.To);
        // Where we offered our whole list (a Closing entry) the peer pushes what we lack unlisted, at most its count there.
        bool Offer(SyncItem x) => side.OfferRanges.Any(r => x >= r.From && x < r.To);
        var listed = peerExtras.Where(x => !Blind(x) && !Offer(x)).ToArray();
        return side.ToReceive.SetEquals(listed) && side.BlindCount == peerExtras.Count(Blind)
            && side.OfferRanges.All(r => peerExtras.Count(x => x >= r.From && x < r.To) <= r.Count);
    }

    static long Reads(FingerprintIndex index) => index.Store is MergedSyncItems m ? m.Reads : -1;

    static NativeTuning ParseTuning(string spec)
    {
        // A preset first (then Name=value overrides): "ThreeRoundTrips" (= the default) or "Unplanned" (the default before the plan).
        var t = NativeTuning.Default;
        foreach (var (name, preset) in new[] { (nameof(NativeTuning.ThreeRoundTrips), NativeTuning.ThreeRoundTrips), (nameof(NativeTuning.Unplanned), NativeTuning.Unplanned) })
            if (spec.StartsWith(name, StringComparison.Ordinal))
            {
                t = preset;
                spec = spec[name.Length..].TrimStart(',');
            }
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', 2);
            string v = kv.Length > 1 ? kv[1] : "true";
            t = kv[0] switch
            {
                nameof(NativeTuning.SlicesPerDifference) => t with { SlicesPerDifference = double.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.MinFanoutLarge) => t with { MinFanoutLarge = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.FingerprintBytes) => t with { FingerprintBytes = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.AgreementDensity) => t with { AgreementDensity = bool.Parse(v) },
                nameof(NativeTuning.UnconfirmedFanoutCap) => t with { UnconfirmedFanoutCap = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.LargeNode) => t with { LargeNode = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.ItemsThreshold) => t with { ItemsThreshold = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.SingleDifferenceSearch) => t with { SingleDifferenceSearch = bool.Parse(v) },
                nameof(NativeTuning.FixedFanout) => t with { FixedFanout = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.BounceBeforeItems) => t with { BounceBeforeItems = bool.Parse(v) },
                nameof(NativeTuning.TargetRoundTrips) => t with { TargetRoundTrips = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.ClosingSlicesPerDifference) => t with { ClosingSlicesPerDifference = double.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.OpenSlices) => t with { OpenSlices = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.ClosingOfferLimit) => t with { ClosingOfferLimit = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.ClosingListLimit) => t with { ClosingListLimit = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.PairSearch) => t with { PairSearch = bool.Parse(v) },
                nameof(NativeTuning.PreClosingHandBackLimit) => t with { PreClosingHandBackLimit = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.PlanLeafItems) => t with { PlanLeafItems = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.PlanGrowth) => t with { PlanGrowth = int.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.HandBackMaxDifferences) => t with { HandBackMaxDifferences = double.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.UnconfirmedSlicesPerDifference) => t with { UnconfirmedSlicesPerDifference = double.Parse(v, CultureInfo.InvariantCulture) },
                nameof(NativeTuning.MissingEntries) => t with { MissingEntries = bool.Parse(v) },
                nameof(NativeTuning.PlanMinDensity) => t with { PlanMinDensity = double.Parse(v, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown tuning {kv[0]}"),
            };
        }
        return t;
    }

    // Items in timestamp order by construction (no sort of 10^7 items) over about a day (the sync range is two days,
    // so every item is in it); d of them go to one side only, exactly d/2 to each side in random order. "uniform": the
    // differing items are scattered at random (the worst case for range reconciliation); "clustered": they come in runs
    // of `run` consecutive items on one side (a peer that was offline for a while); "newest": B lacks A's newest d items.
    static (SyncItem[] Shared, SyncItem[] OnlyA, SyncItem[] OnlyB) Generate(long n, long d, int seed, string layout = "uniform", int run = 100)
    {
        long total = layout == "newest" ? n : n + d / 2;
        var rng = new Random(seed);
        long[] chosen;
        bool[] sideOfChosen;
        if (layout == "newest")
        {
            // B lacks the newest d of A's n items (a peer offline for the last while): one range B holds nothing of.
            chosen = new long[d];
            sideOfChosen = new bool[d];
            for (long i = 0; i < d; i++) { chosen[i] = total - d + i; sideOfChosen[i] = true; }
        }
        else if (layout == "clustered")
        {
            long runs = Math.Max(d / run, d > 0 ? 1 : 0), slots = total / run;
            var starts = new HashSet<long>();
            while (starts.Count < runs) starts.Add(rng.NextInt64(slots));
            var sorted = starts.Order().ToArray();
            var sides = Balanced(sorted.Length, rng);
            chosen = new long[d];
            sideOfChosen = new bool[d];
            long at = 0;
            for (int i = 0; i < sorted.Length && at < d; i++)
                for (int k = 0; k < run && at < d; k++) { chosen[at] = sorted[i] * run + k; sideOfChosen[at++] = sides[i]; }
        }
        else
        {
            var set = new HashSet<long>();
            while (set.Count < d) set.Add(rng.NextInt64(total));
            chosen = set.Order().ToArray();
            sideOfChosen = Balanced(chosen.Length, rng);
        }
        var shared = new SyncItem[total - d];
        var onlyA = new SyncItem[sideOfChosen.Count(x => x)];
        var onlyB = new SyncItem[d - onlyA.Length];
        int s = 0, a = 0, b = 0, c = 0;
        long gap = Math.Max(1, Day / total);
        long ts = T0;
        ulong x = (ulong)seed * 0x9E3779B97F4A7C15UL + 1;
        for (long i = 0; i < total; i++)
        {
            ts += 1 + (long)(Next(ref x) % (ulong)(2 * gap));
            var item = new SyncItem(ts, new MessageHash(Next(ref x), Next(ref x), Next(ref x), Next(ref x)));
            if (c < chosen.Length && chosen[c] == i) { if (sideOfChosen[c++]) onlyA[a++] = item; else onlyB[b++] = item; }
            else shared[s++] = item;
        }
        return (shared, onlyA, onlyB);
    }

    // Exactly half true (the first one when odd), in random order.
    static bool[] Balanced(int count, Random rng)
    {
        var sides = new bool[count];
        for (int i = 0; i < (count + 1) / 2; i++) sides[i] = true;
        rng.Shuffle(sides);
        return sides;
    }

    static ulong Next(ref ulong x)
    {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        return x * 0x2545F4914F6CDD1DUL;
    }

    /// <summary>A field of /proc/self/status in bytes (VmRSS now, VmHWM the peak since the process started).</summary>
    internal static long ProcStatus(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    internal static string Uptime() => File.Exists("/proc/loadavg") ? "load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "";

    static string[] List(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return (i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback).Split(',', StringSplitOptions.RemoveEmptyEntries);
    }

    static string[] Replace(string[] args, string name, string value)
    {
        int i = Array.IndexOf(args, name);
        if (i >= 0 && i + 1 < args.Length) { var copy = (string[])args.Clone(); copy[i + 1] = value; return copy; }
        return [.. args, name, value];
    }
}
