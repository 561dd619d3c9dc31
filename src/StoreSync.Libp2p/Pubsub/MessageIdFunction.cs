namespace StoreSync.Libp2p.Pubsub;

/// <summary>
/// Computes a message's id from its topic and data (gossipsub's msgIdFn). Returns false when the data
/// cannot be given an id, which gossipsub treats as a rejected message.
/// </summary>
public delegate bool MessageIdFunction(string topic, ReadOnlySpan<byte> data, out byte[] messageId);
