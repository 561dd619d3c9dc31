using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Testing.Node;

/// <summary>How to start a <see cref="StoreNodeProcess"/>.</summary>
public sealed record StoreNodeSettings
{
    /// <summary>The store folder; null = a fresh temp folder, deleted on dispose.</summary>
    public string? DataDir { get; init; }
    public bool Rest { get; init; } = true;
    public bool Metrics { get; init; }

    /// <summary>The libp2p (and discv5) listen address: 127.0.0.1, or ::1 for the IPv6 tests.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>Further flags, e.g. <c>--shard 0</c>, <c>--rate-limit store:5/1s</c>.</summary>
    public string[] Args { get; init; } = [];

    /// <summary>The node's working folder (where it looks for appsettings.json); null = the test's own.</summary>
    public string? WorkingDirectory { get; init; }
}

/// <summary>A real <c>storesync node</c> process on 127.0.0.1 or ::1 (libp2p, REST and metrics on free ports), its output kept
/// (bounded) for assertions; stopped by SIGTERM or killed on dispose. Used by the node tests, the interop tests and the load benchmark.</summary>
public sealed partial class StoreNodeProcess : IAsyncDisposable
{
    const int MaxKeptLines = 5000;
    readonly Process _process;
    readonly ConcurrentQueue<string> _output = new();
    readonly bool _ownsDataDir;
    readonly Task _stdout, _stderr;

    StoreNodeProcess(Process process, string dataDir, bool ownsDataDir)
    {
        _process = process;
        DataDir = dataDir;
        _ownsDataDir = ownsDataDir;
        _stdout = Task.Run(() => KeepAsync(process.StandardOutput));
        _stderr = Task.Run(() => KeepAsync(process.StandardError));
    }

    public string DataDir { get; }

    /// <summary>The libp2p multiaddr the node printed, with /p2p/.</summary>
    public string Address { get; private set; } = "";
    public Multiaddr Multiaddr => Multiaddr.Parse(Address);
    public string PeerId => Address[(Address.IndexOf("/p2p/", StringComparison.Ordinal) + 5)..];
    public Uri Rest { get; private set; } = null!;
    public Uri? Metrics { get; private set; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the node wrote so far (stdout and stderr interleaved, at most 5,000 lines).</summary>
    public string Output => string.Join("\n", _output);

    /// <summary>The /ws or /wss multiaddr the node printed (with --websocket-support), with /p2p/; empty without.</summary>
    public string WebSocketAddress { get; private set; } = "";

    [GeneratedRegex(@"storesync node listening on (/ip(?:4/127\.0\.0\.1|6/::1)/tcp/\d+/p2p/\S+)")]
    private static partial Regex ListenLine();

    [GeneratedRegex(@"storesync node listening on (/ip(?:4/127\.0\.0\.1|6/::1)/tcp/\d+/wss?/p2p/\S+)")]
    private static partial Regex WebSocketListenLine();

    [GeneratedRegex(@"REST API listening on (http://\S+)")]
    private static partial Regex RestLine();

    public static Task<StoreNodeProcess> StartAsync(params string[] args) => StartAsync(new StoreNodeSettings { Args = args });

    // The metrics port is chosen free, then bound by the node: another process of a parallel suite can take it in between.
    public static async Task<StoreNodeProcess> StartAsync(StoreNodeSettings settings, IReadOnlyDictionary<string, string>? environment = null)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { return await StartOnceAsync(settings, environment); }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("HttpListener could not be started", StringComparison.Ordinal)) { }
        }
    }

    static async Task<StoreNodeProcess> StartOnceAsync(StoreNodeSettings settings, IReadOnlyDictionary<string, string>? environment)
    {
        var dataDir = settings.DataDir ?? Directory.CreateTempSubdirectory("storesync-node-").FullName;
        // Through env(1) with SIGINT back at its default: a suite started in the background by a non-interactive shell inherits
        // SIGINT ignored, and a process that starts with it ignored keeps ignoring it, so SendSigint would test the shell, not the node.
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        start.Environment["DOTNET_NOLOGO"] = "1";
        if (settings.WorkingDirectory is not null) start.WorkingDirectory = settings.WorkingDirectory;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        int metricsPort = settings.Metrics ? FreePort() : 0;
        string[] args =
        [
            Path.Combine(AppContext.BaseDirectory, "storesync.dll"), "node", "--data-dir", dataDir, "--listen-address", settings.ListenAddress, "--tcp-port", "0",
            "--rest", settings.Rest ? "true" : "false", "--rest-port", "0",
            "--metrics-server", settings.Metrics ? "true" : "false", "--metrics-server-port", metricsPort.ToString(),
            .. settings.Args,
        ];
        foreach (var a in args) start.ArgumentList.Add(a);
        var node = new StoreNodeProcess(Process.Start(start)!, dataDir, settings.DataDir is null);
        if (settings.Metrics) node.Metrics = new Uri($"http://127.0.0.1:{metricsPort}/metrics");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            int flag = Array.IndexOf(settings.Args, "--websocket-support");
            bool webSocket = settings.Args.Contains("--websocket-support=true")
                || (flag >= 0 && (flag + 1 == settings.Args.Length || settings.Args[flag + 1] != "false"));
            while (node.Address.Length == 0 || (settings.Rest && node.Rest is null) || (webSocket && node.WebSocketAddress.Length == 0))
            {
                if (node._process.HasExited)
                {
                    try { await Task.WhenAll(node._stdout, node._stderr).WaitAsync(TimeSpan.FromSeconds(5)); } catch (TimeoutException) { }
                    throw new InvalidOperationException($"node exited with {node._process.ExitCode}:\n{node.Output}");
                }
                foreach (var line in node._output)
                {
                    if (ListenLine().Match(line) is { Success: true } m) node.Address = m.Groups[1].Value;
                    if (WebSocketListenLine().Match(line) is { Success: true } w) node.WebSocketAddress = w.Groups[1].Value;
                    if (RestLine().Match(line) is { Success: true } r) node.Rest = new Uri(r.Groups[1].Value);
                }
                await Task.Delay(25, timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            await node.DisposeAsync();
            throw new TimeoutException("node did not print its addresses within 60 s:\n" + node.Output);
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
        return node;
    }

    async Task KeepAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
            if (_output.Count < MaxKeptLines) _output.Enqueue(line);
    }

    /// <summary>Waits (bounded) until the node has written a line containing <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, CancellationToken ct)
    {
        while (!_output.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited) throw new InvalidOperationException($"node exited before writing '{text}':\n{Output}");
            await Task.Delay(20, ct);
        }
    }

    /// <summary>The node's record as it prints it at start (<c>storesync node enr enr:…</c>, with --discv5-discovery).</summary>
    public async Task<StoreSync.Libp2p.Discovery.Enr.EnrRecord> RecordAsync(CancellationToken ct)
    {
        const string Marker = "storesync node enr enr:";
        await WaitForOutputAsync(Marker, ct);
        var line = _output.First(l => l.Contains(Marker, StringComparison.Ordinal));
        return StoreSync.Libp2p.Discovery.Enr.EnrRecord.Parse(line[line.IndexOf("enr:", StringComparison.Ordinal)..].Trim());
    }

    /// <summary>Pushes one message of <paramref name="text"/> through the node's REST light push (timestamped 30 s ago, inside
    /// every sync window); throws with the node's answer when it is refused.</summary>
    public async Task LightPushAsync(string pubsubTopic, string contentTopic, string text, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = Rest, Timeout = TimeSpan.FromSeconds(30) };
        using var push = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(http, "/lightpush/v3/message", new
        {
            pubsubTopic,
            message = new { payload = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text)), contentTopic, timestamp = StoreSync.Core.Timestamp.Now() - 30 * StoreSync.Core.Timestamp.NanosPerSecond },
        }, ct);
        if (!push.IsSuccessStatusCode)
            throw new InvalidOperationException($"push to {PeerId}: {push.StatusCode} {await push.Content.ReadAsStringAsync(ct)}");
    }

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    /// <summary>Sends SIGTERM (what systemd and Ctrl-C's sibling send).</summary>
    public void SendSigterm() => SendSignal(15);

    /// <summary>Sends SIGINT, what Ctrl-C in a terminal sends.</summary>
    public void SendSigint() => SendSignal(2);

    void SendSignal(int signal)
    {
        if (kill(_process.Id, signal) != 0) throw new InvalidOperationException($"kill({signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Sends SIGTERM and waits (at most 60 s) for the process to end; returns its exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        SendSigterm();
        return await WaitForExitAsync();
    }

    /// <summary>Kills the process at once (SIGKILL: a crash, a pulled plug).</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await _process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { throw new TimeoutException("node did not exit within 60 s:\n" + Output); }
        await Task.WhenAll(_stdout, _stderr).WaitAsync(TimeSpan.FromSeconds(10));
        return _process.ExitCode;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try { await _process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { }
        _process.Dispose();
        if (_ownsDataDir)
        {
            try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
