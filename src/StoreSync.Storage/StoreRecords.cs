using StoreSync.Core;
using StoreSync.Core.Proto;

namespace StoreSync.Storage;

/// <summary>A message to store and the pubsub topic it was published on; the store computes its hash unless the caller did.</summary>
public readonly record struct IngestItem(string PubsubTopic, WakuMessage Message)
{
    /// <summary>The message's hash as the caller computed it from this very message (<see cref="MessageHash.Compute(string, WakuMessage)"/>),
    /// to judge it before storing: the ingress paths do, and the store then does not hash the message a second time. Null: the
    /// store computes it.</summary>
    public MessageHash? Hash { get; init; }
}

/// <summary>What a batch ingest did: newly stored messages and known ones skipped.</summary>
public readonly record struct IngestResult(int Inserted, int Duplicates, IReadOnlyList<MessageHash> InsertedHashes)
{
    /// <summary>New messages an ingress filter refused (e.g. at or below their scope's retention horizon); not stored.</summary>
    public int Refused { get; init; }
}

/// <summary>A stored message with its hash and pubsub topic.</summary>
public sealed record StoredMessage(MessageHash Hash, string PubsubTopic, WakuMessage Message);

/// <summary>A stored message as stored: its hash, topics, timestamp and the protobuf bytes of its stored form (unparsed).</summary>
public sealed record StoredBytes(MessageHash Hash, string PubsubTopic, string ContentTopic, long Timestamp, byte[] Message);

/// <summary>One message added to or removed from the store, as observers see it: topics by name and by store id, bytes of the stored form.</summary>
public readonly record struct StoreChange(string PubsubTopic, string ContentTopic, long Timestamp, MessageHash Hash, long Bytes, uint PubsubId, uint ContentId);

/// <summary>Told of every insert and delete, in commit order, after the batch is durable (fingerprint index, quotas).</summary>
/// <remarks>Called under the store's write lock: keep it short and never call back into the store's write methods.</remarks>
public interface IMessageStoreObserver
{
    void OnInserted(IReadOnlyList<StoreChange> changes);

    void OnDeleted(IReadOnlyList<StoreChange> changes);
}

/// <summary>An observer threw after a batch was committed; the batch is durable, the observer's own state may be behind.</summary>
public sealed class StoreObserverException(string message, Exception inner) : Exception(message, inner);

/// <summary>Decides, under the store's write lock, whether a new message of an ingest batch may be stored.</summary>
/// <remarks>Called once per new (not yet stored) message: keep it cheap, never call back into the store's write methods.</remarks>
public interface IStoreIngressFilter
{
    bool Admits(string pubsubTopic, string contentTopic, long timestamp, in MessageHash hash);
}
