using StoreSync.Waku.Relay;

namespace StoreSync.Node.Hosting;

/// <summary>Waku relay's and the network's settings (spec/relay.md §9, §11), named as nwaku's flags.</summary>
public sealed partial class NodeOptions
{
    /// <summary>Join the gossipsub mesh of every served pubsub topic and archive what it carries (nwaku's --relay, default
    /// true there too: a store node that does not relay sees no live traffic).</summary>
    public bool Relay { get; set; } = true;

    /// <summary>The cluster requires RLN proofs (nwaku's --rln-relay). Unset: required on cluster 1, The Waku Network, as
    /// nwaku applies its twn preset to --cluster-id 1. This node cannot verify proofs, so it then forwards nothing it
    /// received and publishes nothing (spec/relay.md §4).</summary>
    public bool? RlnRelay { get; set; }

    /// <summary>A network's cluster, shards, shards in the network, RLN rule and message size under one name (nwaku's
    /// --preset: <c>twn</c>, <c>status.prod</c>); every other source overrides what it sets. Empty: none.</summary>
    public string Preset { get; set; } = "";

    /// <summary>Shards autosharding spreads content topics over (nwaku's --num-shards-in-network); 0 = static sharding only,
    /// the <c>/relay/v1/auto/...</c> endpoints then refuse.</summary>
    public uint NumShardsInNetwork { get; set; }

    /// <summary>Whether relay runs under the RLN rule, after the default for the cluster.</summary>
    public bool RlnRequired => RlnRelay ?? ClusterId == NetworkPreset.TheWakuNetwork.ClusterId;

    /// <summary>What the Waku relay layer needs of this configuration.</summary>
    public RelayOptions RelaySettings() => new(ClusterId, RlnRequired, MaxMessageBytes, NumShardsInNetwork);

    /// <summary>The largest shard index (51/WAKU2-RELAY-SHARDING: shards of a cluster are 0..1023).</summary>
    public const uint MaxShard = 1023;

    /// <summary>Problems with the cluster, shards and preset, each naming its flag (a usage error: exit code 2).</summary>
    public IEnumerable<string> NetworkErrors()
    {
        if (Preset.Length > 0 && !NetworkPreset.TryGet(Preset, out _))
            yield return $"Preset (--preset) '{Preset}' is not a known network: {string.Join(", ", NetworkPreset.All.Select(p => p.Name))}";
        if (ClusterId > ushort.MaxValue) yield return $"ClusterId (--cluster-id) {ClusterId} is above 65535";
        foreach (var s in Shards.Where(s => s > MaxShard)) yield return $"Shard (--shard) {s} is above {MaxShard}";
        if (NumShardsInNetwork > MaxShard + 1) yield return $"NumShardsInNetwork (--num-shards-in-network) {NumShardsInNetwork} is above {MaxShard + 1}";
        // nwaku's validateShards: under autosharding a node serves shards of the network only.
        else if (NumShardsInNetwork > 0)
            foreach (var s in Shards.Where(s => s >= NumShardsInNetwork))
                yield return $"Shard (--shard) {s} is not below NumShardsInNetwork (--num-shards-in-network) {NumShardsInNetwork}";
    }
}
