using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Simulations.RealNodes;

/// <summary>One simulated node played by a real <c>storesync node</c> process on 127.0.0.1, started and stopped as the
/// schedule says. Its ports, data folder and identity key stay the same across restarts, so its peers' static-node
/// addresses stay valid and its store persists while it is offline.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    readonly string _nodeDll;
    readonly string _logPath;
    readonly HttpClient _http;
    Process? _process;
    Task? _pump;
    long _logBytes;

    public NodeProcess(int id, string nodeDll, string dataDir, HttpClient http)
    {
        Id = id;
        _nodeDll = nodeDll;
        _http = http;
        DataDir = dataDir;
        Directory.CreateDirectory(dataDir);
        _logPath = Path.Combine(dataDir, "node.log");
        // The node loads this key (it creates one only when the file is missing), so the peer id is known before it first runs.
        PeerId = IdentityKey.LoadOrCreate(Path.Combine(dataDir, "node.key"), KeyType.Secp256k1).PeerId.ToString();
        TcpPort = FreePort();
        RestPort = FreePort();
        MetricsPort = FreePort();
    }

    public int Id { get; }
    public string DataDir { get; }
    public string PeerId { get; }
    public int TcpPort { get; }
    public int RestPort { get; }
    public int MetricsPort { get; }
    public string Multiaddr => $"/ip4/127.0.0.1/tcp/{TcpPort}/p2p/{PeerId}";
    public bool Running => _process is { HasExited: false };
    Uri Rest(string pathAndQuery) => new($"http://127.0.0.1:{RestPort}{pathAndQuery}");

    /// <summary>The node's log so far (the last lines, for error messages).</summary>
    public string LogTail(int lines = 30)
    {
        try { return string.Join("\n", File.ReadLines(_logPath).TakeLast(lines)); }
        catch (IOException) { return ""; }
    }

    /// <summary>Starts the process and waits (bounded) until its REST API answers.</summary>
    public async Task StartAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        if (Running) throw new InvalidOperationException($"node {Id} is already running");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["DOTNET_NOLOGO"] = "1";
        string[] fixedArgs =
        [
            _nodeDll, "node", "--data-dir", DataDir, "--listen-address", "127.0.0.1", "--tcp-port", Num(TcpPort),
            "--rest", "true", "--rest-port", Num(RestPort), "--metrics-server", "true", "--metrics-server-port", Num(MetricsPort),
        ];
        foreach (var a in fixedArgs.Concat(args)) start.ArgumentList.Add(a);
        var process = Process.Start(start) ?? throw new RealNodeException($"node {Id}: dotnet did not start");
        _process = process;
        var log = new StreamWriter(_logPath, append: true) { AutoFlush = true };
        _pump = Task.WhenAll(Pump(process.StandardOutput, log), Pump(process.StandardError, log)).ContinueWith(_ => log.Dispose(), TaskScheduler.Default);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(RealNodeLimits.StartTimeout);
        while (true)
        {
            if (process.HasExited) throw new RealNodeException($"node {Id} exited with {process.ExitCode} while starting:\n{LogTail()}");
            try
            {
                if (await StoredMessagesAsync(deadline.Token).ConfigureAwait(false) is not null) return;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new RealNodeException($"node {Id} did not answer /health within {RealNodeLimits.StartTimeout.TotalSeconds:0} s:\n{LogTail()}");
            }
            await Task.Delay(50, deadline.Token).ConfigureAwait(false);
        }
    }

    async Task Pump(StreamReader reader, StreamWriter log)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            // Bounded: a chatty node must not fill the disk; the run does not depend on the log.
            if (Interlocked.Add(ref _logBytes, line.Length + 1) > RealNodeLimits.MaxLogBytes) continue;
            lock (log) log.WriteLine(line);
        }
    }

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    /// <summary>SIGTERM (a clean stop: requests in flight are answered, the store is closed), killed if it takes too long.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        if (process is null) return;
        _process = null;
        if (!process.HasExited) kill(process.Id, 15);
        using var timeout = new CancellationTokenSource(RealNodeLimits.StopTimeout);
        try { await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        if (_pump is not null) await _pump.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        process.Dispose();
    }

    /// <summary>GET /health: the number of messages in the store, or null when the node does not answer (yet).</summary>
    public async Task<long?> StoredMessagesAsync(CancellationToken ct)
    {
        try
        {
            using var response = await _http.GetAsync(Rest("/health"), ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) return null;
            using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false));
            return json.RootElement.GetProperty("storedMessages").GetInt64();
        }
        catch (HttpRequestException) { return null; }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return null; } // the request timed out: a busy node, try again later
    }

    /// <summary>POST /lightpush/v3/message; the node stores the message (it has no relay to pass it on).</summary>
    public async Task<bool> PushAsync(byte[] json, CancellationToken ct)
    {
        using var content = new ByteArrayContent(json);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await _http.PostAsync(Rest("/lightpush/v3/message"), content, ct).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return false; }
    }

    /// <summary>Every message hash the store holds on a pubsub topic, paged through GET /store/v3/messages (bounded).</summary>
    public async Task<HashSet<string>> StoredHashesAsync(string pubsubTopic, CancellationToken ct)
    {
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string? cursor = null;
        for (int page = 0; page < RealNodeLimits.MaxStorePages; page++)
        {
            string query = $"/store/v3/messages?pubsubTopic={Uri.EscapeDataString(pubsubTopic)}&pageSize=100&includeData=false" +
                (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            using var response = await _http.GetAsync(Rest(query), ct).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false));
            foreach (var m in json.RootElement.GetProperty("messages").EnumerateArray())
                hashes.Add(m.GetProperty("messageHash").GetString()!);
            cursor = json.RootElement.TryGetProperty("paginationCursor", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            if (cursor is null) return hashes;
        }
        throw new RealNodeException($"node {Id}: more than {RealNodeLimits.MaxStorePages} store pages");
    }

    /// <summary>The node's sync counters from its Prometheus endpoint (they restart at 0 with the process); null when it does not answer.</summary>
    public async Task<SyncCounters?> SyncCountersAsync(CancellationToken ct)
    {
        try
        {
            string text = await _http.GetStringAsync(new Uri($"http://127.0.0.1:{MetricsPort}/metrics"), ct).ConfigureAwait(false);
            return SyncCounters.Parse(text);
        }
        catch (HttpRequestException) { return null; }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return null; }
    }

    static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
