namespace StoreSync.Libp2p.Pubsub;

/// <summary>The score thresholds of gossipsub v1.1 (gossipsub-v1.1.md "Score Thresholds").</summary>
public sealed record PeerScoreThresholds
{
    /// <summary>Below it a peer gets no gossip from us and its IHAVE/IWANT are ignored.</summary>
    public double GossipThreshold { get; init; } = -100;

    /// <summary>Below it a peer is left out of the flood publish of our own messages.</summary>
    public double PublishThreshold { get; init; } = -1000;

    /// <summary>Below it every RPC of the peer is ignored (and the peer may be disconnected).</summary>
    public double GraylistThreshold { get; init; } = -10000;

    /// <summary>Peer exchange in a PRUNE is followed only from a peer scoring at least this.</summary>
    public double AcceptPXThreshold { get; init; }

    /// <summary>When the median mesh score falls below it, better peers are grafted opportunistically.</summary>
    public double OpportunisticGraftThreshold { get; init; }
}
