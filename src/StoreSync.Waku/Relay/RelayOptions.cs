using StoreSync.Core;

namespace StoreSync.Waku.Relay;

/// <summary>How this node takes part in Waku relay: its cluster, whether the cluster requires RLN proofs, the size limit.</summary>
/// <param name="ClusterId">The Waku cluster (16: Status, 1: The Waku Network).</param>
/// <param name="RlnRequired">The cluster admits only messages with a valid RLN proof (The Waku Network). This node cannot
/// verify proofs, so on such a cluster it forwards nothing it received and publishes nothing (spec/relay.md §4).</param>
/// <param name="MaxMessageBytes">The largest encoded WakuMessage (nwaku's --max-msg-size).</param>
/// <param name="ShardsInNetwork">Shards autosharding spreads content topics over (nwaku's --num-shards-in-network); 0 = none.</param>
public sealed record RelayOptions(uint ClusterId, bool RlnRequired, int MaxMessageBytes = MessageValidator.DefaultMaxMessageBytes,
    uint ShardsInNetwork = 0);
