using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Storage;

namespace StoreSync.Waku.Ingress;

/// <summary>The one path by which messages from the network (light push, REST push, sync transfer) enter the store.</summary>
/// <remarks>
/// Every message is validated and hashed here; callers that received a claimed hash pass it so a mismatch is refused.
/// Only the pubsub topics the node serves are accepted, which also keeps the metrics' topic label a bounded set.
/// </remarks>
public sealed class MessageIngress(MessageStore store, MessageValidator validator, IServedTopics servedTopics, WakuMetrics metrics,
    ILogger<MessageIngress> logger, IMessageAdmission? admission = null)
{
    /// <summary>Validates and stores one message.</summary>
    public IngressResult Accept(string pubsubTopic, WakuMessage message, MessageHash? claimedHash = null, string source = "")
    {
        message.WithPayloadPresent();
        if (!validator.TryValidate(pubsubTopic, message, out var error))
            return Reject(error, IngressRejection.Invalid, source);
        if (!servedTopics.Serves(pubsubTopic))
            return Reject($"pubsub topic {pubsubTopic} is not served by this node", IngressRejection.UnservedTopic, source);
        var hash = MessageHash.Compute(pubsubTopic, message);
        if (claimedHash is { } claimed && claimed != hash)
            return Reject($"hash mismatch: claimed {claimed}, recomputed {hash}", IngressRejection.HashMismatch, source);
        if (admission?.Admit(pubsubTopic, message, hash, source) is { Accepted: false } refused)
            return Reject(refused.Error, refused.Rejection, source);
        return Store(pubsubTopic, message, hash, source);
    }

    /// <summary>The checks that follow validation (served topic, community policy) without storing, for relay, which
    /// validates by its own rules and stores in batches (<see cref="Relay.RelayIngest"/>). Refusals are counted, logged at Debug.</summary>
    public IngressResult Admit(string pubsubTopic, WakuMessage message, in MessageHash hash, string source)
    {
        if (!servedTopics.Serves(pubsubTopic))
            return Reject($"pubsub topic {pubsubTopic} is not served by this node", IngressRejection.UnservedTopic, source, LogLevel.Debug);
        if (admission?.Admit(pubsubTopic, message, hash, source) is { Accepted: false } refused)
            return Reject(refused.Error, refused.Rejection, source, LogLevel.Debug);
        return new IngressResult(IngressRejection.None, hash, false, "");
    }

    IngressResult Store(string pubsubTopic, WakuMessage message, in MessageHash hash, string source)
    {
        var result = store.Ingest([new IngestItem(pubsubTopic, message) { Hash = hash }]);
        if (result.Refused > 0)
            return Reject($"message {hash} is at or below its community's retention horizon: it was evicted on purpose", IngressRejection.BelowRetentionHorizon, source);
        if (result.Inserted > 0)
            metrics.MessagesStored.Add(1, new KeyValuePair<string, object?>("pubsub_topic", pubsubTopic));
        return new IngressResult(IngressRejection.None, hash, result.Inserted == 0, "");
    }

    /// <summary>Validates messages whose hash the caller has just computed from them (sync transfer re-hashes every frame) and
    /// stores the accepted ones in one store batch: one write for many messages, the same checks as <see cref="Accept"/>.</summary>
    /// <returns>One result per item, in order. A new message the store's own filter refused (at or below its retention horizon,
    /// a race with eviction) is reported as a duplicate, never stored.</returns>
    public IngressResult[] AcceptBatch(IReadOnlyList<(string PubsubTopic, WakuMessage Message, MessageHash Hash)> items, string source = "")
    {
        ArgumentNullException.ThrowIfNull(items);
        var results = new IngressResult[items.Count];
        var batch = new List<IngestItem>(items.Count);
        var admitted = new List<int>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            var (pubsubTopic, message, hash) = items[i];
            message.WithPayloadPresent();
            if (!validator.TryValidate(pubsubTopic, message, out var error)) results[i] = Reject(error, IngressRejection.Invalid, source);
            else if (!servedTopics.Serves(pubsubTopic)) results[i] = Reject($"pubsub topic {pubsubTopic} is not served by this node", IngressRejection.UnservedTopic, source);
            else if (admission?.Admit(pubsubTopic, message, hash, source) is { Accepted: false } refused) results[i] = Reject(refused.Error, refused.Rejection, source);
            else
            {
                batch.Add(new IngestItem(pubsubTopic, message) { Hash = hash });
                admitted.Add(i);
            }
        }
        if (batch.Count == 0) return results;
        var stored = store.Ingest(batch);
        var inserted = stored.InsertedHashes.ToHashSet();
        foreach (int i in admitted)
        {
            bool isNew = inserted.Remove(items[i].Hash);
            if (isNew) metrics.MessagesStored.Add(1, new KeyValuePair<string, object?>("pubsub_topic", items[i].PubsubTopic));
            results[i] = new IngressResult(IngressRejection.None, items[i].Hash, !isNew, "");
        }
        return results;
    }

    IngressResult Reject(string error, IngressRejection rejection, string source, LogLevel level = LogLevel.Information)
    {
        metrics.MessagesRejected.Add(1, new KeyValuePair<string, object?>("reason", rejection.ToString()));
        logger.Log(level, "Rejected a message from {Source}: {Reason}", source, error);
        return new IngressResult(rejection, default, false, error);
    }
}

/// <summary>Why a message was refused.</summary>
public enum IngressRejection
{
    None, Invalid, UnservedTopic, HashMismatch,

    /// <summary>It belongs to communities, none of which this node has opted into.</summary>
    NotOptedIn,

    /// <summary>It belongs to no community and this node stores only its communities.</summary>
    NotInCommunity,

    /// <summary>A message on a community's control topic that does not decode or is not signed by the owner.</summary>
    ControlInvalid,

    /// <summary>The community's authorship policy is on and the message carries no signature of an authorised author.</summary>
    Unauthorised,

    /// <summary>Older than what the store evicted on purpose for its scope (the retention horizon): not stored again.</summary>
    BelowRetentionHorizon,
}

/// <summary>Outcome of <see cref="MessageIngress.Accept"/>: stored (or already known), or refused with a reason.</summary>
public readonly record struct IngressResult(IngressRejection Rejection, MessageHash Hash, bool Duplicate, string Error)
{
    public bool Accepted => Rejection == IngressRejection.None;
}
