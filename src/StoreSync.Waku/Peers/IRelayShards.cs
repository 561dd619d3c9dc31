namespace StoreSync.Waku.Peers;

/// <summary>What relay tells the peer manager: the shards it runs on now (empty while relay is off), so the manager holds a
/// target of relay peers on each.</summary>
public interface IRelayShards
{
    IReadOnlyList<ushort> RelayShards { get; }
}
