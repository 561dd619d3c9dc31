using System.Net;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Discovery.Enr;

/// <summary>The libp2p peer a v4 node record names: its peer id (from the record's secp256k1 key) and its TCP addresses.</summary>
public static class EnrPeerInfo
{
    public static PeerId PeerIdOf(EnrRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return PeerId.FromPublicKey(new PublicKey(KeyType.Secp256k1, record.PublicKey.Span));
    }

    /// <summary>/ip4/…/tcp/…/p2p/… from ip+tcp and /ip6/… from ip6+tcp6 (tcp standing in for tcp6, as EIP-778 allows); empty without a port.</summary>
    public static IReadOnlyList<Multiaddr> TcpMultiaddrs(EnrRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var peer = PeerIdOf(record);
        var addresses = new List<Multiaddr>();
        if (record.Ip is { } ip && record.Tcp is { } tcp) addresses.Add(At(ip, tcp));
        if (record.Ip6 is { } ip6 && (record.Tcp6 ?? record.Tcp) is { } tcp6) addresses.Add(At(ip6, tcp6));
        return addresses;

        Multiaddr At(IPAddress address, ushort port) => Multiaddr.FromEndPoint(new IPEndPoint(address, port)).WithPeerId(peer);
    }
}
