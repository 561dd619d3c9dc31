using System.Text.Json.Nodes;

namespace StoreSync.Testing.Interop;

/// <summary>A js-libp2p 3.x process (tests/Interop/libp2p/peer.mjs) on 127.0.0.1 port 0, driven by JSON lines; always killed on dispose.</summary>
public sealed class JsLibp2pPeer : IAsyncDisposable
{
    readonly JsLinePeer _peer;

    JsLibp2pPeer(JsLinePeer peer)
    {
        _peer = peer;
        PeerId = peer.Hello["peerId"]!.GetValue<string>();
        Addresses = peer.Hello["addrs"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
    }

    public string PeerId { get; }

    /// <summary>Listen addresses with /p2p/.</summary>
    public IReadOnlyList<string> Addresses { get; }

    public string Stderr => _peer.Stderr;

    /// <summary>The folder holding peer.mjs and its node_modules (installed by tests/run.sh with npm ci).</summary>
    public static string ScriptDirectory => InteropScripts.Directory("libp2p", "peer.mjs");

    /// <param name="keyType">"ed25519" or "secp256k1".</param>
    /// <param name="listenWebSocket">Also listen on /ws (listed after the /tcp address); the peer dials /ws and /wss either way.</param>
    /// <param name="trustCertificate">A PEM certificate js trusts beside the system's (NODE_EXTRA_CA_CERTS), for dialing a test /wss.</param>
    public static async Task<JsLibp2pPeer> StartAsync(string keyType, CancellationToken ct, bool listenWebSocket = false, string? trustCertificate = null)
    {
        // Node 20 exposes the WebSocket that js-libp2p dials with only behind this flag (Node 22 accepts it and has it anyway).
        List<string> arguments = ["--experimental-websocket", "--import", "./withresolvers-polyfill.mjs", "peer.mjs", "--key", keyType];
        if (listenWebSocket) arguments.Add("--ws");
        var environment = trustCertificate is null ? null : new Dictionary<string, string> { ["NODE_EXTRA_CA_CERTS"] = trustCertificate };
        return new(await JsLinePeer.StartAsync(ScriptDirectory, arguments, "libp2p", ct, environment));
    }

    /// <summary>Runs one command; throws with js's error text when it fails.</summary>
    public Task<JsonObject> RunAsync(string command, object arguments, TimeSpan timeout, CancellationToken ct) => _peer.RunAsync(command, arguments, timeout, ct);

    public ValueTask DisposeAsync() => _peer.DisposeAsync();
}
