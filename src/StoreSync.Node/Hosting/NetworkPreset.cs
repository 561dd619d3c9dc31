using System.Diagnostics.CodeAnalysis;

namespace StoreSync.Node.Hosting;

/// <summary>A Waku network's settings under one name (nwaku's <c>--preset</c>): cluster, shards served, shards in the network
/// (autosharding), whether the cluster requires RLN proofs, the largest message. Explicit settings override it.</summary>
/// <remarks>spec/relay.md §11 says where each value comes from.</remarks>
public sealed record NetworkPreset(string Name, uint ClusterId, IReadOnlyList<uint> Shards, uint NumShardsInNetwork, bool RlnRelay, int MaxMessageBytes)
{
    /// <summary>The Waku Network: cluster 1, RLN required, 8 shards under autosharding (logos-delivery TheWakuNetworkConf).</summary>
    public static readonly NetworkPreset TheWakuNetwork = new("twn", 1, [0, 1, 2, 3, 4, 5, 6, 7], 8, RlnRelay: true, 150 * 1024);

    /// <summary>Status' production network: cluster 16, no RLN, the static shards Status' fleet serves, 1 MiB messages.</summary>
    public static readonly NetworkPreset StatusProd = new("status.prod", 16, [1, 32, 64, 128, 256], 0, RlnRelay: false, 1024 * 1024);

    public static IReadOnlyList<NetworkPreset> All { get; } = [TheWakuNetwork, StatusProd];

    /// <summary>Finds a preset by name, case-insensitively, also without its dot as nwaku accepts (<c>statusprod</c>).</summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out NetworkPreset? preset)
    {
        var key = name.Trim().Replace(".", "", StringComparison.Ordinal);
        preset = All.FirstOrDefault(p => string.Equals(p.Name.Replace(".", "", StringComparison.Ordinal), key, StringComparison.OrdinalIgnoreCase));
        return preset is not null;
    }

    /// <summary>Sets the preset's values on options that no source has set yet (the sources are bound on top).</summary>
    public void ApplyTo(NodeOptions options)
    {
        options.ClusterId = ClusterId;
        options.Shards = [.. Shards];
        options.NumShardsInNetwork = NumShardsInNetwork;
        options.RlnRelay = RlnRelay;
        options.MaxMessageBytes = MaxMessageBytes;
    }
}
