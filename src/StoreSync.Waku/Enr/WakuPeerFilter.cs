using StoreSync.Libp2p.Discovery.Enr;

namespace StoreSync.Waku.Enr;

/// <summary>Which discovered records are Waku peers worth keeping, as nwaku's discv5 sharding predicate and peer exchange pool filter.</summary>
public static class WakuPeerFilter
{
    /// <summary>
    /// A record passes when it names another cluster in no shard field (nwaku's isClusterMismatched), and, if we are on
    /// shards, it carries <c>waku2</c> bits (RFC 31) and is on at least one of our shards (nwaku's shardingPredicate).
    /// A node on no shard filters by cluster only, as nwaku disables its predicate then.
    /// </summary>
    public static bool Accepts(EnrRecord record, ushort clusterId, IReadOnlyCollection<ushort> shards)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(shards);
        var theirs = WakuEnr.RelayShardsOf(record);
        if (theirs is not null && theirs.ClusterId != clusterId) return false;
        if (shards.Count == 0) return true;
        return WakuEnr.WakuCapabilitiesOf(record) is { } bits && bits != WakuCapabilities.None
            && theirs is not null && theirs.Shards.Any(shards.Contains);
    }
}
