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
    public static readonly MultiaddrProtocol QuicV1 = new("quic-v1", 0x01cc, 0);
    public static readonly MultiaddrProtocol Ws = new("ws", 0x01dd, 0);
    public static readonly MultiaddrProtocol Wss = new("wss", 0x01de, 0);

    public static IReadOnlyList<MultiaddrProtocol> All { get; } = [Ip4, Tcp, Ip6, Dns, Dns4, Dns6, Udp, P2p, QuicV1, Ws, Wss];

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
