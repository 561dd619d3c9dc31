using System.Net;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.WebSocket;

namespace StoreSync.Node.Hosting;

/// <summary>What the node's libp2p host listens on: TCP always, and /ws or /wss beside it when the websocket flags ask
/// (as nwaku: one WebSocket port, plain or TLS).</summary>
internal static class NodeListenAddresses
{
    public static IReadOnlyList<Multiaddr> For(NodeOptions options)
    {
        var ip = IPAddress.Parse(options.ListenAddress);
        var tcp = Multiaddr.FromEndPoint(new IPEndPoint(ip, options.TcpPort));
        if (!options.WebsocketSupport) return [tcp];
        var websocket = Multiaddr.FromEndPoint(new IPEndPoint(ip, options.WebsocketPort));
        return [tcp, Multiaddr.Parse(websocket + (options.WebsocketSecureSupport ? "/wss" : "/ws"))];
    }

    /// <summary>The WebSocket limits with the /wss certificate loaded from the operator's PEM files.</summary>
    /// <exception cref="InvalidOperationException">The files do not hold a certificate with its key (the message says which and why).</exception>
    public static WebSocketOptions WebSocket(NodeOptions options)
    {
        if (!options.WebsocketSupport || !options.WebsocketSecureSupport) return new WebSocketOptions();
        try
        {
            return new WebSocketOptions { Certificate = WebSocketCertificate.LoadPem(options.WebsocketSecureCertPath, options.WebsocketSecureKeyPath) };
        }
        catch (InvalidDataException e)
        {
            throw new InvalidOperationException($"invalid configuration: --websocket-secure-cert-path/--websocket-secure-key-path: {e.Message}", e);
        }
    }
}
