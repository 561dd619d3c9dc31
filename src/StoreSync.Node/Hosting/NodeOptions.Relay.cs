using StoreSync.Waku.Relay;

namespace StoreSync.Node.Hosting;

/// <summary>Waku relay's settings (spec/relay.md, "In the node"), named as nwaku's flags.</summary>
public sealed partial class NodeOptions
{
    /// <summary>Join the gossipsub mesh of every served pubsub topic and archive what it carries (nwaku's --relay, default
    /// true there too: a store node that does not relay sees no live traffic).</summary>
    public bool Relay { get; set; } = true;

    /// <summary>The cluster requires RLN proofs (nwaku's --rln-relay). Unset: required on cluster 1, The Waku Network, as
    /// nwaku applies its twn preset to --cluster-id 1. This node cannot verify proofs, so it then forwards nothing it
    /// received and publishes nothing (spec/relay.md §4).</summary>
    public bool? RlnRelay { get; set; }

    /// <summary>Whether relay runs under the RLN rule, after the default for the cluster.</summary>
    public bool RlnRequired => RlnRelay ?? ClusterId == TheWakuNetworkCluster;

    /// <summary>The Waku Network's cluster id.</summary>
    public const uint TheWakuNetworkCluster = 1;

    /// <summary>What the Waku relay layer needs of this configuration.</summary>
    public RelayOptions RelaySettings() => new(ClusterId, RlnRequired, MaxMessageBytes);

    IEnumerable<string> RelayErrors()
    {
        yield break;
    }
}
