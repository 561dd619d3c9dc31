using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace StoreSync.Benchmarks;

/// <summary>What the node under test reports: the router's and the store's counters, its process's CPU, memory and caches.</summary>
internal sealed record RelayNodeStats(
    long Received, long Accepted, long Ignored, long Rejected, long Duplicates, long FramesSent, long FramesDropped,
    long Stored, long Batches, int MeshPeers, double CpuSeconds, long PeakRssBytes, long RssBytes, long AllocatedBytes,
    int Gen0, int Gen1, int Gen2, int SeenIds, long SeenBytes, int CachedMessages, long CachedBytes, double JitSeconds, long JitMethods)
{
    public long Validated => Accepted + Ignored + Rejected;
}

/// <summary>The node under test of the relay benchmark in a process of its own (this program's hidden mode
/// <c>relay-node</c>), so that its CPU time and peak RSS are its own and not the load generators'.</summary>
/// <remarks>Protocol on stdin/stdout: the first line is <c>{"peerId","address"}</c>; each line <c>stats</c> is answered with
/// one <see cref="RelayNodeStats"/> line; end of stdin stops the node.</remarks>
internal sealed class RelayNodeProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly SemaphoreSlim _gate = new(1, 1);

    RelayNodeProcess(Process process, string peerId, string address)
    {
        _process = process;
        PeerId = peerId;
        Address = address;
    }

    public string PeerId { get; }

    public string Address { get; }

    public int ProcessId => _process.Id;

    public static async Task<RelayNodeProcess> StartAsync(CancellationToken ct)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false,
        };
        // Run as `dotnet StoreSync.Benchmarks.dll`: the child needs the assembly too.
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        start.ArgumentList.Add("relay-node");
        // Tier hot methods up as soon as they are hot, not after 100 ms without new tier-0 methods (a condition a busy
        // node meets late): the run then measures the steady state a long-running node reaches, within minutes.
        start.Environment.TryAdd("DOTNET_TC_CallCountingDelayMs", "0");
        var process = Process.Start(start) ?? throw new InvalidOperationException("the node under test did not start");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            var hello = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("the node under test exited");
            var json = JsonDocument.Parse(hello).RootElement;
            return new RelayNodeProcess(process, json.GetProperty("peerId").GetString()!, json.GetProperty("address").GetString()!);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    public async Task<RelayNodeStats> StatsAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await _process.StandardInput.WriteLineAsync("stats".AsMemory(), ct);
            await _process.StandardInput.FlushAsync(ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var line = await _process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new IOException("the node under test exited");
            return JsonSerializer.Deserialize<RelayNodeStats>(line)!;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException) { }
        finally
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
            _gate.Dispose();
        }
    }

    /// <summary>The child's side: runs the node under test until stdin ends.</summary>
    public static async Task<int> RunChildAsync(string[] args)
    {
        using var overall = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        var ct = overall.Token;
        await using var node = await RelayBenchNode.StartAsync(store: true, ct);
        var hello = JsonSerializer.Serialize(new { peerId = node.Host.PeerId.ToString(), address = node.Address });
        await Console.Out.WriteLineAsync(hello);
        await Console.Out.FlushAsync(ct);
        for (int i = 0; i < 1_000_000; i++)
        {
            var line = await Console.In.ReadLineAsync(ct);
            if (line is null || line == "stop") break;
            if (line != "stats") continue;
            await Console.Out.WriteLineAsync(JsonSerializer.Serialize(Stats(node)));
            await Console.Out.FlushAsync(ct);
        }
        return 0;
    }

    static RelayNodeStats Stats(RelayBenchNode node)
    {
        var c = node.Router.Counters;
        var caches = node.Router.CacheSizes;
        var relay = node.Relay!;
        var process = Process.GetCurrentProcess();
        return new RelayNodeStats(c.MessagesReceived, c.MessagesAccepted, c.MessagesIgnored, c.MessagesRejected, c.Duplicates, c.FramesSent, c.FramesDropped,
            relay.Ingest.Written, relay.Ingest.Batches, node.Router.MeshPeers(RelayBenchNode.Topic).Count,
            process.TotalProcessorTime.TotalSeconds, StatusBytes("VmHWM:"), StatusBytes("VmRSS:"), GC.GetTotalAllocatedBytes(),
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), caches.SeenIds, caches.SeenBytes,
            caches.CachedMessages, caches.CachedBytes, System.Runtime.JitInfo.GetCompilationTime().TotalSeconds,
            System.Runtime.JitInfo.GetCompiledMethodCount());
    }

    /// <summary>A size field of /proc/self/status (Linux) in bytes; 0 elsewhere.</summary>
    public static long StatusBytes(string field, int pid = 0)
    {
        var path = pid == 0 ? "/proc/self/status" : $"/proc/{pid}/status";
        if (!File.Exists(path)) return 0;
        foreach (var line in File.ReadLines(path))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0]) * 1024;
        return 0;
    }
}
