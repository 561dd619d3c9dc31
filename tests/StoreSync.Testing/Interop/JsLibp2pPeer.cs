using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StoreSync.Testing.Interop;

/// <summary>A js-libp2p 3.x process (tests/Interop/libp2p/peer.mjs) on 127.0.0.1 port 0, driven by JSON lines; always killed on dispose.</summary>
public sealed class JsLibp2pPeer : IAsyncDisposable
{
    readonly Process _process;
    readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    readonly ConcurrentQueue<string> _stderr = new();
    readonly Task _reader;
    int _nextId;

    JsLibp2pPeer(Process process, string peerId, IReadOnlyList<string> addresses, Task reader)
    {
        _process = process;
        PeerId = peerId;
        Addresses = addresses;
        _reader = reader;
    }

    public string PeerId { get; }

    /// <summary>Listen addresses with /p2p/.</summary>
    public IReadOnlyList<string> Addresses { get; }

    public string Stderr => string.Join("\n", _stderr);

    /// <summary>The folder holding peer.mjs and its node_modules (installed by tests/run.sh with npm ci).</summary>
    public static string ScriptDirectory => InteropScripts.Directory("libp2p", "peer.mjs");

    /// <param name="keyType">"ed25519" or "secp256k1".</param>
    /// <param name="listenWebSocket">Also listen on /ws (listed after the /tcp address); the peer dials /ws and /wss either way.</param>
    public static async Task<JsLibp2pPeer> StartAsync(string keyType, CancellationToken ct, bool listenWebSocket = false)
    {
        var dir = ScriptDirectory;
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "libp2p")))
            throw new InvalidOperationException($"js-libp2p is not installed in {dir}: run tests/run.sh (it runs npm ci) or npm ci there");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = dir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Node 20 exposes the WebSocket that js-libp2p dials with only behind this flag (Node 22 accepts it and has it anyway).
        foreach (var a in new[] { "--experimental-websocket", "--import", "./withresolvers-polyfill.mjs", "peer.mjs", "--key", keyType }) start.ArgumentList.Add(a);
        if (listenWebSocket) start.ArgumentList.Add("--ws");
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
                ?? throw new InvalidOperationException("node exited before listening: " + string.Join("\n", stderr));
            var hello = JsonNode.Parse(first)!.AsObject();
            var addresses = hello["addrs"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
            JsLibp2pPeer? peer = null;
            var reader = Task.Run(async () =>
            {
                for (int i = 0; i < 1_000_000; i++)
                {
                    var line = await process.StandardOutput.ReadLineAsync(CancellationToken.None);
                    if (line is null) break;
                    var reply = JsonNode.Parse(line)!.AsObject();
                    if (reply["id"] is JsonValue id && peer!._pending.TryRemove(id.GetValue<int>(), out var waiter)) waiter.TrySetResult(reply);
                }
                foreach (var waiter in peer!._pending.Values) waiter.TrySetException(new IOException("node exited: " + peer.Stderr));
            }, CancellationToken.None);
            peer = new JsLibp2pPeer(process, hello["peerId"]!.GetValue<string>(), addresses, reader);
            foreach (var line in stderr) peer._stderr.Enqueue(line);
            return peer;
        }
        catch
        {
            Kill(process);
            throw;
        }
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
            _process.StandardInput.Close(); // peer.mjs stops its node and exits when stdin closes
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
