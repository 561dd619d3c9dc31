using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Storage;
using StoreSync.Testing.Node;

namespace StoreSync.Benchmarks;

/// <summary>
/// Swarm backfill at disk speed (issue 17, spec/performance.md): an empty node fills from 1 peer and from 3 peers that each hold
/// everything, with real processes over loopback (`storesync node` peers, the `storesync backfill` CLI as the receiver). Prints
/// wall time, MB/s, CPU per message on the receiver and on each sender, peak RSS, beside the store's own ingest rate measured in
/// the same run (the peers' store is filled by batch ingest first). <c>backfill [--messages N] [--payload BYTES] [--peers 1,3]</c>.
/// </summary>
public static class BackfillBenchmark
{
    const string Topic = "/waku/2/rs/1/0";

    public static async Task<int> RunAsync(string[] args)
    {
        int n = Arg(args, "--messages", 1_000_000), payload = Arg(args, "--payload", 1024);
        var peerCounts = args.SkipWhile(a => a != "--peers").Skip(1).Select(s => s.Split(',').Select(int.Parse).ToArray()).FirstOrDefault([1, 3]);
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        var root = Directory.CreateTempSubdirectory("storesync-bench-backfill-").FullName;
        try
        {
            var source = Path.Combine(root, "peer0");
            long bytes = Fill(source, n, payload);
            for (int p = 1; p < peerCounts.Max(); p++) Copy(source, Path.Combine(root, "peer" + p));
            var peers = new List<StoreNodeProcess>();
            try
            {
                for (int p = 0; p < peerCounts.Max(); p++)
                    peers.Add(await StoreNodeProcess.StartAsync(new StoreNodeSettings
                    {
                        DataDir = Path.Combine(root, "peer" + p), Rest = false,
                        Args = ["--shard", "0", "--store-sync-interval", "86400", "--store-sync-history-interval", "86400"],
                    }));
                // A folder per run, not per count: `--peers 1,1` repeats the fill into an empty folder.
                for (int run = 0; run < peerCounts.Length; run++)
                {
                    await WaitIdleAsync(peers);
                    await FillFromAsync(peers.Take(peerCounts[run]).ToList(), Path.Combine(root, $"filled-{run}-{peerCounts[run]}"), n, bytes);
                }
            }
            finally
            {
                foreach (var peer in peers) await peer.DisposeAsync();
            }
        }
        finally { Directory.Delete(root, recursive: true); }
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    static int Arg(string[] args, string name, int fallback) =>
        args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).FirstOrDefault(fallback);

    /// <summary>Fills the peers' store by batch ingest (10,000 per batch) and prints the store's own ingest rate.</summary>
    static long Fill(string dataDir, int n, int payload)
    {
        long t0 = Timestamp.Now() - TimeSpan.FromDays(30).Ticks * 100, step = TimeSpan.FromDays(29).Ticks * 100 / n;
        var body = new byte[payload];
        var rng = new Random(17);
        long bytes = 0;
        var wall = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        using (var store = MessageStore.Open(dataDir))
        {
            for (int start = 0; start < n; start += 10_000)
            {
                var batch = new List<IngestItem>(10_000);
                for (int i = start; i < Math.Min(n, start + 10_000); i++)
                {
                    rng.NextBytes(body);
                    var m = new WakuMessage { ContentTopic = "/app/1/chat/proto", Timestamp = t0 + i * step, Payload = ByteString.CopyFrom(body) };
                    bytes += m.CalculateSize();
                    batch.Add(new IngestItem(Topic, m));
                }
                store.Ingest(batch);
            }
        }
        double seconds = wall.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"store ingest: {n} messages, {bytes / 1e6:0.0} MB in {seconds:0.00} s = {bytes / 1e6 / seconds:0.0} MB/s, {n / seconds:0} msg/s, " +
            $"{(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / n:0.0} µs CPU per message (load {File.ReadAllText("/proc/loadavg").Split(' ')[0]})"));
        return bytes;
    }

    static void Copy(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file) is "node.key" or "LOCK") continue;   // a peer of its own
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }

    /// <summary>Utime + stime of a process (ticks of 10 ms) from /proc, and its peak RSS (VmHWM, KiB).</summary>
    static (double CpuSeconds, long PeakKiB) Usage(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        double cpu = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        long hwm = File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).FirstOrDefault();
        return (cpu, hwm);
    }

    /// <summary>CPU seconds per second below which a peer counts as idle.</summary>
    const double IdleCpu = 0.03;

    /// <summary>Waits until every peer is idle: its CPU grew by less than <see cref="IdleCpu"/> in each of 2 seconds in a row, at
    /// most 120 s; prints how long and what they spent meanwhile.</summary>
    /// <remarks>A peer that has just opened the store filled by batch ingest first compacts it (RocksDB's deferred work of that
    /// ingest: 1.6 s of CPU at 10^6 messages, measured) and finishes tiering its start-up code. Neither is a cost of sending, and
    /// neither is there in a node that has held its history for a while, so the senders' CPU is counted from here.</remarks>
    static async Task WaitIdleAsync(List<StoreNodeProcess> peers)
    {
        var wall = Stopwatch.StartNew();
        var first = peers.Select(p => Usage(p.ProcessId).CpuSeconds).ToArray();
        var last = first;
        for (int quiet = 0; quiet < 2 && wall.Elapsed < TimeSpan.FromSeconds(120);)
        {
            await Task.Delay(1000);
            var now = peers.Select(p => Usage(p.ProcessId).CpuSeconds).ToArray();
            quiet = now.Zip(last, (a, b) => a - b).All(d => d < IdleCpu) ? quiet + 1 : 0;
            last = now;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"peers idle after {wall.Elapsed.TotalSeconds:0.0} s, having spent {string.Join(", ", last.Zip(first, (a, b) => $"{a - b:0.00}"))} s of CPU meanwhile"));
    }

    // The receiver is the real CLI under /usr/bin/time (wall, CPU, peak RSS of the whole process); senders are read from /proc.
    static async Task FillFromAsync(List<StoreNodeProcess> peers, string dataDir, int n, long bytes)
    {
        var before = peers.Select(p => Usage(p.ProcessId).CpuSeconds).ToArray();
        var start = new ProcessStartInfo("/usr/bin/time") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-f", "TIME %e %U %S %M", "dotnet", Path.Combine(AppContext.BaseDirectory, "storesync.dll"), "backfill", "--data-dir", dataDir })
            start.ArgumentList.Add(a);
        foreach (var p in peers) { start.ArgumentList.Add("--peer"); start.ArgumentList.Add(p.Address); }
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromHours(2));
        await process.WaitForExitAsync(timeout.Token);
        string err = await stderr, output = await stdout;
        var time = err.Split('\n').Last(l => l.StartsWith("TIME ", StringComparison.Ordinal)).Split(' ');
        double wall = double.Parse(time[1], CultureInfo.InvariantCulture), cpu = double.Parse(time[2], CultureInfo.InvariantCulture) + double.Parse(time[3], CultureInfo.InvariantCulture);
        long rss = long.Parse(time[4], CultureInfo.InvariantCulture);
        if (process.ExitCode != 0) Console.WriteLine($"backfill exited with {process.ExitCode}:\n{output}\n{err}");
        Console.WriteLine(output.Split('\n').FirstOrDefault(l => l.StartsWith("backfill " + Topic + ":", StringComparison.Ordinal) && l.Contains("finished", StringComparison.Ordinal)) ?? output);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"from {peers.Count} peer(s): {n} messages, {bytes / 1e6:0.0} MB in {wall:0.00} s = {bytes / 1e6 / wall:0.0} MB/s; receiver {cpu * 1e6 / n:0.0} µs CPU per message, peak RSS {rss / 1024.0:0} MiB (load {File.ReadAllText("/proc/loadavg").Split(' ')[0]})"));
        for (int i = 0; i < peers.Count; i++)
        {
            var (after, peak) = Usage(peers[i].ProcessId);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  sender {i}: {(after - before[i]) * 1e6 / n:0.0} µs CPU per message fetched in all, peak RSS {peak / 1024.0:0} MiB"));
        }
    }
}
