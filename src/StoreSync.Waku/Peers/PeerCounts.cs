using StoreSync.Libp2p.Identity;
using StoreSync.Waku.Enr;

namespace StoreSync.Waku.Peers;

/// <summary>Peers known and connected, by source, by capability and (relay) by shard: what the figures and gauges show.</summary>
public sealed record PeerCounts(int Known, int Connected, IReadOnlyDictionary<string, (int Known, int Connected)> BySource,
    IReadOnlyDictionary<string, (int Known, int Connected)> ByCapability, IReadOnlyDictionary<ushort, int> RelayPeersByShard)
{
    /// <summary>The label of each source and capability: bounded sets, the enums' members.</summary>
    public static readonly IReadOnlyList<PeerSources> Sources =
        [PeerSources.Static, PeerSources.Discv5, PeerSources.DnsDiscovery, PeerSources.PeerExchange, PeerSources.Inbound];

    public static readonly IReadOnlyList<WakuCapabilities> Capabilities =
        [WakuCapabilities.Relay, WakuCapabilities.Store, WakuCapabilities.Filter, WakuCapabilities.Lightpush, WakuCapabilities.Sync, WakuCapabilities.Mix];

    public static string Label(PeerSources source) => source switch
    {
        PeerSources.DnsDiscovery => "dns-discovery",
        PeerSources.PeerExchange => "peer-exchange",
        _ => source.ToString().ToLowerInvariant(),
    };

    public static string Label(WakuCapabilities capability) => capability.ToString().ToLowerInvariant();

    public static PeerCounts Of(IReadOnlyList<PeerBookEntry> entries, IReadOnlySet<PeerId> connected, IReadOnlyList<ushort> relayShards, ushort cluster)
    {
        (int, int) Count(Func<PeerBookEntry, bool> has) => (entries.Count(has), entries.Count(e => has(e) && connected.Contains(e.Id)));
        return new PeerCounts(entries.Count, connected.Count,
            Sources.ToDictionary(Label, s => Count(e => (e.Sources & s) != 0)),
            Capabilities.ToDictionary(Label, c => Count(e => (e.Capabilities & c) != 0)),
            relayShards.ToDictionary(s => s, s => entries.Count(e => connected.Contains(e.Id) && (e.Capabilities & WakuCapabilities.Relay) != 0 && e.MayBeOn(cluster, s))));
    }
}
