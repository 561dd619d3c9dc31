namespace StoreSync.Libp2p.Pubsub;

/// <summary>Running totals of a router since it started (a snapshot; read for metrics). <see cref="IWantIdsSent"/>: message
/// ids asked for by IWANT after a peer's IHAVE (what gossip repaired, or was about to).</summary>
public readonly record struct GossipsubCounters(
    long MessagesReceived,
    long MessagesAccepted,
    long MessagesIgnored,
    long MessagesRejected,
    long Duplicates,
    long FramesSent,
    long FramesDropped,
    long BytesReceived,
    long BytesSent,
    long GraylistedRpcs,
    long IWantIdsSent);
