using System.Text.Json.Nodes;

namespace StoreSync.Testing.Interop;

/// <summary>
/// A js-libp2p 3.x process running @libp2p/gossipsub 17 as js-waku's relay does (tests/Interop/gossipsub/peer.mjs) on
/// 127.0.0.1 port 0, driven by JSON lines; always killed on dispose.
/// </summary>
public sealed class JsGossipsubPeer : IAsyncDisposable
{
    static readonly TimeSpan Step = TimeSpan.FromSeconds(30);
    readonly JsLinePeer _peer;

    JsGossipsubPeer(JsLinePeer peer)
    {
        _peer = peer;
        PeerId = peer.Hello["peerId"]!.GetValue<string>();
        Address = peer.Hello["addrs"]!.AsArray().Select(a => a!.GetValue<string>()).First();
    }

    public string PeerId { get; }

    /// <summary>The /tcp listen address with /p2p/.</summary>
    public string Address { get; }

    public string Stderr => _peer.Stderr;

    /// <summary>The folder holding peer.mjs and its node_modules (installed by tests/run.sh with npm ci).</summary>
    public static string ScriptDirectory => InteropScripts.Directory("gossipsub", "peer.mjs");

    /// <param name="sign">StrictSign instead of Waku's StrictNoSign: every message it publishes carries from, seqno, signature and key.</param>
    /// <param name="wakuValidator">js-waku's message validator on every topic it subscribes to.</param>
    /// <param name="meshDegree">When set, D = D_lo = D_hi = this (D_out 0): a full mesh refuses an inbound peer's GRAFT.</param>
    public static async Task<JsGossipsubPeer> StartAsync(CancellationToken ct, bool sign = false, bool wakuValidator = false, int heartbeatMs = 1000,
        int? meshDegree = null)
    {
        List<string> arguments = ["--import", "../libp2p/withresolvers-polyfill.mjs", "peer.mjs", "--heartbeat", heartbeatMs.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (sign) arguments.Add("--sign");
        if (wakuValidator) arguments.Add("--waku-validator");
        if (meshDegree is { } d) arguments.AddRange(["--mesh-degree", d.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        return new(await JsLinePeer.StartAsync(ScriptDirectory, arguments, "@libp2p/gossipsub", ct));
    }

    /// <summary>Runs one command; throws with js's error text when it fails.</summary>
    public Task<JsonObject> RunAsync(string command, object arguments, CancellationToken ct, TimeSpan? timeout = null) =>
        _peer.RunAsync(command, arguments, timeout ?? Step, ct);

    public Task DialAsync(string address, CancellationToken ct) => RunAsync("dial", new { addr = address }, ct);

    public Task SubscribeAsync(string topic, CancellationToken ct) => RunAsync("subscribe", new { topic }, ct);

    /// <summary>js's mesh peers of the topic.</summary>
    public async Task<IReadOnlyList<string>> MeshPeersAsync(string topic, CancellationToken ct) =>
        Strings((await RunAsync("mesh", new { topic }, ct))["peers"]!);

    /// <summary>Waits until the peer is in js's mesh of the topic.</summary>
    public Task WaitMeshAsync(string topic, string peer, CancellationToken ct, int timeoutMs = 20_000) =>
        RunAsync("waitMesh", new { topic, peer, timeoutMs }, ct, TimeSpan.FromMilliseconds(timeoutMs + 1000));

    /// <summary>Publishes the data; returns its message id (hex SHA-256 of the data) and the peers js sent it to.</summary>
    public async Task<(string Id, IReadOnlyList<string> Recipients)> PublishAsync(string topic, byte[] data, CancellationToken ct)
    {
        var reply = await RunAsync("publish", new { topic, data = Convert.ToBase64String(data) }, ct);
        return (reply["msgId"]!.GetValue<string>(), Strings(reply["recipients"]!));
    }

    /// <summary>Publishes <paramref name="count"/> WakuMessages "<paramref name="prefix"/> i" (timestamp now); returns their message ids.</summary>
    public async Task<IReadOnlyList<string>> PublishWakuAsync(string topic, string contentTopic, string prefix, int count, CancellationToken ct, int size = 0, int delayMs = 0) =>
        (await PublishWakuDataAsync(topic, contentTopic, prefix, count, ct, size, delayMs)).Ids;

    /// <summary>As <see cref="PublishWakuAsync"/>, with the encoded WakuMessages too (for payloads under 4 KiB).</summary>
    public async Task<(IReadOnlyList<string> Ids, IReadOnlyList<byte[]> Data)> PublishWakuDataAsync(string topic, string contentTopic, string prefix, int count,
        CancellationToken ct, int size = 0, int delayMs = 0)
    {
        var reply = await RunAsync("publishWaku", new { topic, contentTopic, prefix, count, size, delayMs }, ct, TimeSpan.FromSeconds(120));
        return (Strings(reply["ids"]!), [.. Strings(reply["data"]!).Select(Convert.FromBase64String)]);
    }

    /// <summary>What js's application received on the topic: message ids (hex) and data in order, the propagation sources,
    /// and the deliveries beyond the first of any id.</summary>
    public async Task<JsReceived> ReceivedAsync(string topic, CancellationToken ct)
    {
        var reply = await RunAsync("received", new { topic }, ct);
        var messages = reply["messages"]!.AsArray();
        return new([.. messages.Select(m => m!["id"]!.GetValue<string>())], [.. messages.Select(m => Convert.FromBase64String(m!["data"]!.GetValue<string>()))],
            [.. messages.Select(m => m!["from"]!.GetValue<string>())], reply["duplicates"]!.GetValue<int>());
    }

    /// <summary>Polls <see cref="ReceivedAsync"/> until at least <paramref name="count"/> messages arrived or <paramref name="seconds"/> passed; returns the last answer.</summary>
    public async Task<JsReceived> WaitReceivedAsync(string topic, int count, CancellationToken ct, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var received = await ReceivedAsync(topic, ct);
            if (received.Ids.Count >= count || DateTime.UtcNow > deadline) return received;
            await Task.Delay(100, ct);
        }
    }

    /// <summary>js's score of the peer.</summary>
    public async Task<double> ScoreAsync(string peer, CancellationToken ct) => (await RunAsync("score", new { peer }, ct))["score"]!.GetValue<double>();

    /// <summary>Writes raw RPC frames (length-prefixed by js unless <paramref name="raw"/>) on a new relay stream to the peer.</summary>
    public Task RawFramesAsync(string peer, IEnumerable<byte[]> frames, CancellationToken ct, bool raw = false) =>
        RunAsync("rawFrames", new { peer, frames = frames.Select(Convert.ToBase64String).ToArray(), raw }, ct);

    static List<string> Strings(JsonNode array) => [.. array.AsArray().Select(p => p!.GetValue<string>())];

    public ValueTask DisposeAsync() => _peer.DisposeAsync();
}

/// <summary>What a js gossipsub peer's application received on one topic.</summary>
public sealed record JsReceived(IReadOnlyList<string> Ids, IReadOnlyList<byte[]> Data, IReadOnlyList<string> From, int Duplicates);
