using System.Net;
using System.Net.Sockets;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Transports;

/// <summary>What a multiaddr asks the host to listen on or dial: a TCP host and port and the layers above TCP.</summary>
/// <remarks>Accepted shapes (each optionally ending in /p2p/ID), as js-libp2p's tcp and websockets transports take them:
/// <c>HOST/tcp/P</c>, <c>HOST/tcp/P/ws</c>, <c>HOST/tcp/P/wss</c>, <c>HOST/tcp/P/tls/ws</c> and <c>HOST/tcp/P/tls/sni/NAME/ws</c>,
/// where HOST is /ip4, /ip6, /dns, /dns4 or /dns6.</remarks>
/// <param name="ServerName">The TLS server name of a secure WebSocket: the /sni/ value, else a DNS host; null for an IP without /sni/.</param>
public sealed record TransportAddress(string Host, int Port, AddressFamily Family, TransportKind Kind, string? ServerName)
{
    /// <exception cref="UnsupportedTransportException">Any other shape (quic, webrtc, p2p-circuit, …).</exception>
    public static TransportAddress Parse(Multiaddr address)
    {
        var c = address.WithoutPeerId().Components;
        if (c.Count < 2 || c[1].Protocol != MultiaddrProtocol.Tcp) throw Unsupported(address);
        var family = c[0].Protocol.Name switch
        {
            "ip4" or "dns4" => AddressFamily.InterNetwork,
            "ip6" or "dns6" => AddressFamily.InterNetworkV6,
            "dns" => AddressFamily.Unspecified,
            _ => throw Unsupported(address),
        };
        var host = c[0].ValueText;
        string? dnsName = c[0].Protocol.Name.StartsWith("dns", StringComparison.Ordinal) ? host : null;
        var rest = c.Skip(2).Select(x => x.Protocol).ToList();
        var (kind, serverName) = rest switch
        {
            [] => (TransportKind.Tcp, null),
            [var ws] when ws == MultiaddrProtocol.Ws => (TransportKind.WebSocket, null),
            [var wss] when wss == MultiaddrProtocol.Wss => (TransportKind.SecureWebSocket, dnsName),
            [var tls, var ws] when tls == MultiaddrProtocol.Tls && ws == MultiaddrProtocol.Ws => (TransportKind.SecureWebSocket, dnsName),
            [var tls, var sni, var ws] when tls == MultiaddrProtocol.Tls && sni == MultiaddrProtocol.Sni && ws == MultiaddrProtocol.Ws =>
                (TransportKind.SecureWebSocket, c[3].ValueText),
            _ => throw Unsupported(address),
        };
        return new TransportAddress(host, c[1].Port, family, kind, serverName);
    }

    public static bool TryParse(Multiaddr address, out TransportAddress? parsed)
    {
        try
        {
            parsed = Parse(address);
            return true;
        }
        catch (UnsupportedTransportException)
        {
            parsed = null;
            return false;
        }
    }

    /// <summary>The components after /tcp/PORT that name this kind: none, /ws or /wss (how nwaku and js-libp2p announce them).</summary>
    public static IReadOnlyList<MultiaddrComponent> SuffixOf(TransportKind kind) => kind switch
    {
        TransportKind.WebSocket => [MultiaddrComponent.ParseValue(MultiaddrProtocol.Ws, "")],
        TransportKind.SecureWebSocket => [MultiaddrComponent.ParseValue(MultiaddrProtocol.Wss, "")],
        _ => [],
    };

    /// <summary>/ip4|ip6/…/tcp/… of the end point followed by the kind's suffix.</summary>
    public static Multiaddr ToMultiaddr(IPEndPoint endPoint, TransportKind kind) =>
        kind == TransportKind.Tcp ? Multiaddr.FromEndPoint(endPoint) : new Multiaddr(Multiaddr.FromEndPoint(endPoint).Components.Concat(SuffixOf(kind)));

    /// <summary>The value of an HTTP Host header for this address (brackets around an IPv6 literal).</summary>
    public string HttpHost => (Family == AddressFamily.InterNetworkV6 && Host.Contains(':') ? $"[{Host}]" : Host) + ":" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    static UnsupportedTransportException Unsupported(Multiaddr address) =>
        new($"unsupported transport {address}: only ip4/ip6/dns/dns4/dns6 + tcp, optionally + ws, wss or tls/ws, can be dialled");
}
