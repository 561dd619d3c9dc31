using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StoreSync.Testing.Interop;

/// <summary>
/// A Node.js script under tests/Interop driven by JSON lines: its first stdout line is a hello object, then each command
/// written to stdin (with an id) gets one reply line with that id. Always killed on dispose.
/// </summary>
public sealed class JsLinePeer : IAsyncDisposable
{
    readonly Process _process;
    readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    readonly ConcurrentQueue<string> _stderr;
    Task _reader = Task.CompletedTask;
    int _nextId;

    JsLinePeer(Process process, JsonObject hello, ConcurrentQueue<string> stderr)
    {
        _process = process;
        Hello = hello;
        _stderr = stderr;
    }

    /// <summary>The script's first line.</summary>
    public JsonObject Hello { get; }

    public string Stderr => string.Join("\n", _stderr);

    /// <summary>Runs <c>node <paramref name="arguments"/></c> in <paramref name="directory"/>, which must hold node_modules/<paramref name="requiredModule"/>,
    /// with <paramref name="environment"/> added to its environment.</summary>
    public static async Task<JsLinePeer> StartAsync(string directory, IEnumerable<string> arguments, string requiredModule, CancellationToken ct,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        if (!Directory.Exists(Path.Combine(directory, "node_modules", requiredModule)))
            throw new InvalidOperationException($"{requiredModule} is not installed in {directory}: run tests/run.sh (it runs npm ci) or npm ci there");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stderr = new ConcurrentQueue<string>();
        _ = Task.Run(async () =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                var line = await process.StandardError.ReadLineAsync(CancellationToken.None);
                if (line is null) return;
                if (stderr.Count < 500) stderr.Enqueue(line);
            }
        }, CancellationToken.None);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var first = await process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException("node exited before its hello line: " + string.Join("\n", stderr));
            var peer = new JsLinePeer(process, JsonNode.Parse(first)!.AsObject(), stderr);
            peer._reader = Task.Run(peer.ReadRepliesAsync, CancellationToken.None);
            return peer;
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    async Task ReadRepliesAsync()
    {
        for (int i = 0; i < 1_000_000; i++)
        {
            var line = await _process.StandardOutput.ReadLineAsync(CancellationToken.None);
            if (line is null) break;
            var reply = JsonNode.Parse(line)!.AsObject();
            if (reply["id"] is JsonValue id && _pending.TryRemove(id.GetValue<int>(), out var waiter)) waiter.TrySetResult(reply);
        }
        foreach (var waiter in _pending.Values) waiter.TrySetException(new IOException("node exited: " + Stderr));
    }

    /// <summary>Runs one command; throws with js's error text when it fails.</summary>
    public async Task<JsonObject> RunAsync(string command, object arguments, TimeSpan timeout, CancellationToken ct)
    {
        int id = Interlocked.Increment(ref _nextId);
        var message = JsonSerializer.SerializeToNode(arguments)!.AsObject();
        message["id"] = id;
        message["cmd"] = command;
        message["timeoutMs"] = (int)timeout.TotalMilliseconds;
        var waiter = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = waiter;
        await _process.StandardInput.WriteLineAsync(message.ToJsonString().AsMemory(), ct);
        await _process.StandardInput.FlushAsync(ct);
        // js aborts at `timeout`; a little more here so its own error text wins the race.
        var reply = await waiter.Task.WaitAsync(timeout + TimeSpan.FromSeconds(5), ct);
        if (reply["ok"]?.GetValue<bool>() != true) throw new JsPeerException($"js {command} failed: {reply["error"]}");
        return reply;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close(); // the scripts stop and exit when stdin closes
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException) { }
        finally
        {
            Kill(_process);
            await _reader.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
            _process.Dispose();
        }
    }

    static void Kill(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }
}

/// <summary>A command failed inside the js peer.</summary>
public sealed class JsPeerException(string message) : Exception(message);
