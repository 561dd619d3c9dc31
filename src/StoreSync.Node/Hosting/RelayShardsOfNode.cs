using StoreSync.Core;
using StoreSync.Waku.Peers;
using StoreSync.Waku.Relay;

namespace StoreSync.Node.Hosting;

/// <summary>The shards the node's relay is subscribed to (static-sharding topics of its cluster), for the peer manager.</summary>
public sealed class RelayShardsOfNode(WakuRelay relay, NodeOptions options) : IRelayShards
{
    public IReadOnlyList<ushort> RelayShards =>
        [.. relay.Subscriptions.Select(t => PubsubTopic.TryParseShard(t, out var cluster, out var shard) && cluster == options.ClusterId ? (int)shard : -1)
            .Where(s => s >= 0).Select(s => (ushort)s).Order()];

    public int MeshPeers(ushort shard) => relay.MeshPeers(PubsubTopic.ForShard(options.ClusterId, shard)).Count;
}
