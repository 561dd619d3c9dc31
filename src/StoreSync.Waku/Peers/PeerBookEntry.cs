using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Reconciliation.Nwaku;
using StoreSync.Waku.Enr;

namespace StoreSync.Waku.Peers;

/// <summary>What the book knows of one peer: addresses, sources, capabilities (record bits and identify protocols), shards,
/// the record, and its dial history.</summary>
/// <param name="RecordCapabilities">The <c>waku2</c> bits of its record, when a source gave one.</param>
/// <param name="Protocols">The Waku protocols it listed in identify (others are not kept).</param>
/// <param name="Enr">The record's text form, for peer exchange and for seq comparison.</param>
/// <param name="EnrSeq">The record's sequence number (0 without a record): a newer record clears a given-up peer's failures.</param>
public sealed record PeerBookEntry(
    PeerId Id,
    IReadOnlyList<Multiaddr> Addresses,
    PeerSources Sources,
    WakuCapabilities? RecordCapabilities,
    RelayShards? Shards,
    IReadOnlyList<string> Protocols,
    string? Enr,
    ulong EnrSeq,
    int Failures,
    DateTimeOffset? LastFailure,
    DateTimeOffset? LastConnected,
    DateTimeOffset LastSeen)
{
    public bool IsStatic => (Sources & PeerSources.Static) != 0;

    /// <summary>Whether identify has told us its protocols (then they, not the record, say what it serves).</summary>
    public bool IsIdentified => Protocols.Count > 0;

    /// <summary>What it serves: from identify once identified, else from its record; None when neither is known.</summary>
    public WakuCapabilities Capabilities => IsIdentified ? PeerCapabilities.FromProtocols(Protocols) : RecordCapabilities ?? WakuCapabilities.None;

    /// <summary>Whether it is known to serve <paramref name="capability"/>, or, when nothing is known yet, might.</summary>
    public bool MayServe(WakuCapabilities capability) => (Capabilities & capability) != 0 || (!IsIdentified && RecordCapabilities is null);

    /// <summary>Whether it is on the shard of the cluster, or its shards are not known.</summary>
    public bool MayBeOn(ushort cluster, ushort shard) => Shards is null || (Shards.ClusterId == cluster && Shards.Shards.Contains(shard));
}

/// <summary>The <c>waku2</c> capability a peer's identify protocols amount to.</summary>
public static class PeerCapabilities
{
    /// <summary>Protocol prefixes per capability (any version counts, as nwaku's protocol matcher).</summary>
    static readonly (string Prefix, WakuCapabilities Capability)[] Prefixes =
    [
        ("/vac/waku/relay/", WakuCapabilities.Relay),
        ("/vac/waku/store-query/", WakuCapabilities.Store),
        ("/vac/waku/store/", WakuCapabilities.Store),
        ("/vac/waku/filter-subscribe/", WakuCapabilities.Filter),
        ("/vac/waku/lightpush/", WakuCapabilities.Lightpush),
        (NwakuReconciliation.ProtocolId, WakuCapabilities.Sync),
        ("/storesync/reconciliation/", WakuCapabilities.Sync),
    ];

    public static WakuCapabilities FromProtocols(IEnumerable<string> protocols)
    {
        var capabilities = WakuCapabilities.None;
        foreach (var p in protocols)
            foreach (var (prefix, capability) in Prefixes)
                if (p.StartsWith(prefix, StringComparison.Ordinal)) capabilities |= capability;
        return capabilities;
    }

    /// <summary>The protocols worth keeping in the book: Waku's and store sync's (identify may list many more).</summary>
    public static bool IsWaku(string protocol) =>
        protocol.StartsWith("/vac/waku/", StringComparison.Ordinal) || protocol.StartsWith("/storesync/", StringComparison.Ordinal);
}
