using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>A pubsub message as it reaches validators and subscribers.</summary>
/// <param name="Topic">The pubsub topic it was published on.</param>
/// <param name="Data">The application payload (for Waku relay: a WakuMessage protobuf).</param>
/// <param name="MessageId">The id the message-id function gave it; duplicates share it.</param>
/// <param name="ReceivedFrom">The peer that sent it to us, or our own id for a local publish.</param>
public sealed record PubsubMessage(string Topic, ReadOnlyMemory<byte> Data, ReadOnlyMemory<byte> MessageId, PeerId ReceivedFrom);
