using System.Collections.Frozen;

namespace StoreSync.Libp2p.Multiformats;

/// <summary>A multiaddr protocol this implementation knows: name, code and how its value is sized on the wire.</summary>
public sealed class MultiaddrProtocol
{
    /// <summary>Value size in bytes for fixed-size protocols, 0 for protocols without a value, or <see cref="VariableSize"/>.</summary>
    public int Size { get; }
    public string Name { get; }
    public ulong Code { get; }

    public const int VariableSize = -1;

    private MultiaddrProtocol(string name, ulong code, int size)
    {
        Name = name;
        Code = code;
        Size = size;
    }

    public static readonly MultiaddrProtocol Ip4 = new("ip4", 0x04, 4);
    public static readonly MultiaddrProtocol Tcp = new("tcp", 0x06, 2);
    public static readonly MultiaddrProtocol Ip6 = new("ip6", 0x29, 16);
    public static readonly MultiaddrProtocol Dns = new("dns", 0x35, VariableSize);
    public static readonly MultiaddrProtocol Dns4 = new("dns4", 0x36, VariableSize);
    public static readonly MultiaddrProtocol Dns6 = new("dns6", 0x37, VariableSize);
    public static readonly MultiaddrProtocol Udp = new("udp", 0x0111, 2);
    public static readonly MultiaddrProtocol P2p = new("p2p", 0x01a5, VariableSize);
    public static readonly MultiaddrProtocol Quic = new("quic", 0x01cc, 0);
    public static readonly MultiaddrProtocol QuicV1 = new("quic-v1", 0x01cd, 0);
    public static readonly MultiaddrProtocol Ws = new("ws", 0x01dd, 0);
    public static readonly MultiaddrProtocol Wss = new("wss", 0x01de, 0);

    // Known so that peers' addresses (identify, ENRs, static nodes) parse and print; dialing any of them is UnsupportedTransportException.
    public static readonly MultiaddrProtocol Dnsaddr = new("dnsaddr", 0x38, VariableSize);
    public static readonly MultiaddrProtocol WebrtcDirect = new("webrtc-direct", 0x0118, 0);
    public static readonly MultiaddrProtocol Webrtc = new("webrtc", 0x0119, 0);
    public static readonly MultiaddrProtocol P2pCircuit = new("p2p-circuit", 0x0122, 0);
    public static readonly MultiaddrProtocol Tls = new("tls", 0x01c0, 0);
    public static readonly MultiaddrProtocol Sni = new("sni", 0x01c1, VariableSize);
    public static readonly MultiaddrProtocol Noise = new("noise", 0x01c6, 0);
    public static readonly MultiaddrProtocol Webtransport = new("webtransport", 0x01d1, 0);
    public static readonly MultiaddrProtocol Http = new("http", 0x01e0, 0);

    public static IReadOnlyList<MultiaddrProtocol> All { get; } =
        [Ip4, Tcp, Ip6, Dns, Dns4, Dns6, Udp, P2p, Quic, QuicV1, Ws, Wss, Dnsaddr, WebrtcDirect, Webrtc, P2pCircuit, Tls, Sni, Noise, Webtransport, Http];

    private static readonly FrozenDictionary<string, MultiaddrProtocol> ByName =
        All.Select(p => KeyValuePair.Create(p.Name, p))
           .Append(KeyValuePair.Create("ipfs", P2p)) // the historical name of p2p, still printed by old tools
           .ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<ulong, MultiaddrProtocol> ByCode = All.ToFrozenDictionary(p => p.Code);

    public static bool TryFromName(ReadOnlySpan<char> name, out MultiaddrProtocol protocol) =>
        ByName.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out protocol!);

    public static bool TryFromCode(ulong code, out MultiaddrProtocol protocol) => ByCode.TryGetValue(code, out protocol!);

    public override string ToString() => Name;
}
