using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Node.Hosting;
using StoreSync.Waku.Enr;
using StoreSync.Waku.PeerExchange;

namespace StoreSync.Node.Discovery;

/// <summary>The records peer exchange hands out: live Waku peers of the discv5 table, as nwaku serves its discv5-found peers.</summary>
/// <remarks>
/// Live: they answered us and have not failed a liveness check since (<see cref="Libp2p.Discovery.Discv5.KademliaTable.Live"/>).
/// Filtered by cluster and shards (<see cref="WakuPeerFilter"/>), and only records a light client can dial: ip+tcp or a
/// multiaddr. Sampled at random when more qualify (nwaku samples by reservoir).
/// </remarks>
public sealed class Discv5PeerExchangeSource(Discv5Service discv5, NodeOptions options) : IPeerExchangeSource
{
    readonly ushort[] _shards = [.. options.Shards.Select(s => (ushort)s)];

    public IReadOnlyList<EnrRecord> SampleForExchange(int count)
    {
        if (discv5.Node is not { } node || count <= 0) return [];
        var pool = node.Table.Live().Where(r => WakuPeerFilter.Accepts(r, (ushort)options.ClusterId, _shards) && Dialable(r)).ToArray();
        Random.Shared.Shuffle(pool);
        return pool.Length <= count ? pool : pool[..count];
    }

    static bool Dialable(EnrRecord record) => EnrPeerInfo.TcpMultiaddrs(record).Count > 0 || WakuEnr.MultiaddrsOf(record).Count > 0;
}
