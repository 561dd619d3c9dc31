namespace StoreSync.Waku.Peers;

/// <summary>What every discovery source feeds: the peer manager's book takes each peer found (static nodes, discv5, DNS
/// discovery, peer exchange) and the manager decides whom to dial.</summary>
public interface IPeerSink
{
    /// <summary>Adds the peer or merges it into the known one (addresses, capabilities, shards, source); false when it was
    /// refused: this node itself, no dialable address, another cluster, or the book full of peers worth more.</summary>
    bool Offer(DiscoveredPeer peer);
}
