using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace StoreSync.Testing.Interop;

/// <summary>A @chainsafe/discv5 node (tests/Interop/discv5/peer.mjs) on 127.0.0.1, driven by JSON lines; always killed on dispose.</summary>
public sealed class JsDiscv5Peer : IAsyncDisposable
{
    readonly JsLinePeer _peer;

    JsDiscv5Peer(JsLinePeer peer, int port)
    {
        _peer = peer;
        Port = port;
        Enr = peer.Hello["enr"]!.GetValue<string>();
        NodeId = peer.Hello["nodeId"]!.GetValue<string>();
    }

    /// <summary>Its record in text form.</summary>
    public string Enr { get; }

    /// <summary>Its node id in lower-case hex.</summary>
    public string NodeId { get; }

    public int Port { get; }

    public string Stderr => _peer.Stderr;

    public static string ScriptDirectory => InteropScripts.Directory("discv5", "peer.mjs");

    public static async Task<JsDiscv5Peer> StartAsync(CancellationToken ct)
    {
        // chainsafe binds the port its record names, so the port is picked here: a free one, released just before.
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        return new(await JsLinePeer.StartAsync(ScriptDirectory, ["peer.mjs", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], "@chainsafe/discv5", ct), port);
    }

    /// <summary>Runs one command of peer.mjs (addEnr, ping, findNode, lookup, talk, table, decode).</summary>
    public Task<JsonObject> RunAsync(string command, object arguments, TimeSpan timeout, CancellationToken ct) => _peer.RunAsync(command, arguments, timeout, ct);

    public ValueTask DisposeAsync() => _peer.DisposeAsync();
}
