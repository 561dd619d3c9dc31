using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Waku.Enr;

namespace StoreSync.Waku.Peers;

/// <summary>A peer as a discovery source reports it: who, where, from which source, and what its record says it serves.</summary>
/// <param name="Capabilities">The record's <c>waku2</c> bits; null when the source does not say (learned at identify).</param>
/// <param name="Shards">The record's <c>rs</c>/<c>rsv</c>; null when the source does not say.</param>
/// <param name="Enr">The record itself, kept so peer exchange can hand it on.</param>
public sealed record DiscoveredPeer(PeerId Id, IReadOnlyList<Multiaddr> Addresses, PeerSources Source,
    WakuCapabilities? Capabilities = null, RelayShards? Shards = null, EnrRecord? Enr = null)
{
    /// <summary>The peer a node record describes: its libp2p id from the record's secp256k1 key, its addresses from
    /// ip/tcp, ip6/tcp6 and <c>multiaddrs</c>, its <c>waku2</c> bits and shards.</summary>
    public static DiscoveredPeer FromEnr(EnrRecord record, PeerSources source)
    {
        var id = EnrPeerInfo.PeerIdOf(record);
        var addresses = EnrPeerInfo.TcpMultiaddrs(record).Select(a => a.WithoutPeerId()).ToList();
        foreach (var a in WakuEnr.MultiaddrsOf(record))
            if (!addresses.Contains(a.WithoutPeerId())) addresses.Add(a.WithoutPeerId());
        return new DiscoveredPeer(id, addresses, source, WakuEnr.WakuCapabilitiesOf(record), WakuEnr.RelayShardsOf(record), record);
    }
}
