using StoreSync.Waku.Peers;

namespace StoreSync.Node.Governor;

/// <summary>The peer manager's figures for the node (spec/node.md): peers known and connected, by source, by capability, and
/// relay peers per shard against the target.</summary>
public sealed class PeerFiguresSource(PeerManager manager) : IFiguresSource
{
    public IEnumerable<KeyValuePair<string, object?>> Figures(string? community)
    {
        if (community is not null) yield break;
        var counts = manager.Counts();
        int shards = counts.RelayPeersByShard.Count;
        yield return new("peers", new
        {
            known = counts.Known,
            connected = counts.Connected,
            bySource = counts.BySource.ToDictionary(kv => kv.Key, kv => new { known = kv.Value.Known, connected = kv.Value.Connected }),
            byCapability = counts.ByCapability.ToDictionary(kv => kv.Key, kv => new { known = kv.Value.Known, connected = kv.Value.Connected }),
            relayShards = counts.RelayPeersByShard.ToDictionary(kv => kv.Key.ToString(System.Globalization.CultureInfo.InvariantCulture),
                kv => new { connected = kv.Value, mesh = manager.MeshPeers(kv.Key), target = manager.Targets.OutRelayPeersPerShard(shards) }),
            targets = new
            {
                maxConnections = manager.Targets.MaxConnections,
                relayPeers = manager.Targets.MaxRelayPeers,
                outRelayPeers = manager.Targets.OutRelayPeers,
                servicePeers = manager.Targets.MaxServicePeers,
                syncPeers = manager.Targets.SyncPeers,
            },
        });
    }
}
