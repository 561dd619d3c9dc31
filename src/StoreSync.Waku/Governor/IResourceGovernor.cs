using StoreSync.Libp2p.Bandwidth;

namespace StoreSync.Waku.Governor;

/// <summary>What the protocol handlers ask of the node's resource governor: the token-bucket chains that pace history traffic,
/// the charge of realtime traffic, and where to book the CPU time of handler work (spec/node.md, "Bandwidth and figures").</summary>
public interface IResourceGovernor
{
    /// <summary>Chain paced by history bytes this node sends (store-query responses, sync) about <paramref name="scope"/>.</summary>
    BandwidthChain HistoryUpload(TrafficScope scope);

    /// <summary>Chain paced by history bytes this node receives (sync transfer, its own store queries).</summary>
    BandwidthChain HistoryDownload(TrafficScope scope);

    /// <summary>Realtime bytes received (light push, REST push, relay): never delayed; charged to the global download bucket so history yields.</summary>
    void RealtimeIn(int bytes);

    /// <summary>Realtime bytes sent (light push responses; relay forwarding): never delayed; charged to the global upload bucket.</summary>
    void RealtimeOut(int bytes);

    /// <summary>Books thread CPU time (nanoseconds) that a handler of <paramref name="protocol"/> spent on <paramref name="scope"/>.</summary>
    void RecordCpu(string protocol, TrafficScope scope, long nanoseconds);
}

/// <summary>No limits, nothing booked: the governor of a node or test that configures none.</summary>
public sealed class UnlimitedGovernor : IResourceGovernor
{
    public static readonly UnlimitedGovernor Instance = new();

    public BandwidthChain HistoryUpload(TrafficScope scope) => BandwidthChain.Unlimited;
    public BandwidthChain HistoryDownload(TrafficScope scope) => BandwidthChain.Unlimited;
    public void RealtimeIn(int bytes) { }
    public void RealtimeOut(int bytes) { }
    public void RecordCpu(string protocol, TrafficScope scope, long nanoseconds) { }
}
