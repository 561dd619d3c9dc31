namespace StoreSync.Waku.Peers;

/// <summary>What relay tells the peer manager: the shards it runs on now (empty while relay is off), so the manager holds a
/// target of relay peers on each, and how many peers its mesh has there (for the figures).</summary>
public interface IRelayShards
{
    IReadOnlyList<ushort> RelayShards { get; }

    /// <summary>Peers in relay's mesh on the shard.</summary>
    int MeshPeers(ushort shard);
}
