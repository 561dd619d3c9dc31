namespace StoreSync.Waku.Peers;

/// <summary>Where the node learned of a peer; a peer known from several sources carries each bit.</summary>
[Flags]
public enum PeerSources
{
    None = 0,
    /// <summary>Given by the operator (<c>--staticnode</c>): always redialed, never evicted from the book.</summary>
    Static = 1 << 0,
    /// <summary>Found by a discv5 lookup or random walk.</summary>
    Discv5 = 1 << 1,
    /// <summary>Listed by an EIP-1459 tree (<c>--dns-discovery-url</c>).</summary>
    DnsDiscovery = 1 << 2,
    /// <summary>Handed out by a peer exchange server.</summary>
    PeerExchange = 1 << 3,
    /// <summary>Dialed us; its addresses come from identify.</summary>
    Inbound = 1 << 4,
}
