using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Pubsub;
using StoreSync.Storage;
using StoreSync.Waku.Ingress;

namespace StoreSync.Waku.Relay;

/// <summary>Waku's validator chain for one relayed message: decode (bounded), size, the message validator light push uses,
/// the duplicate check, the archive's timestamp window, the community policy and, on an RLN cluster, the RLN rule.
/// Each outcome is mapped to gossipsub's accept / ignore / reject as nwaku maps it (spec/relay.md §3).</summary>
/// <remarks>What is to be stored goes to <see cref="RelayIngest"/> here, before the router forwards it, so that an
/// accepted message is queued for the store exactly once (validators run once per message id).</remarks>
public sealed class RelayValidator(RelayOptions options, MessageValidator validator, MessageIngress ingress, RelayIngest ingest,
    RecentHashes recent, RelayMetrics metrics, ILogger<RelayValidator> logger, TimeProvider? clock = null)
{
    readonly TimeProvider _clock = clock ?? TimeProvider.System;
    readonly long _varianceNanos = (long)RelayLimits.TimestampVariance.TotalMilliseconds * Timestamp.NanosPerMillisecond;

    /// <summary>The gossipsub validator for a topic.</summary>
    public TopicValidator For(string pubsubTopic) => (message, ct) => ValidateAsync(pubsubTopic, message, ct);

    async ValueTask<ValidationResult> ValidateAsync(string pubsubTopic, PubsubMessage message, CancellationToken ct)
    {
        var verdict = Decide(pubsubTopic, message.Data.Span, message.ReceivedFrom.ToString(), out var decoded, out var hash);
        metrics.Count(verdict, message.Data.Length);
        if (verdict.Result != ValidationResult.Accept)
            logger.LogDebug("Relay message on {Topic} from {Peer}: {Result} ({Reason})", pubsubTopic, message.ReceivedFrom, verdict.Result, verdict.Reason);
        if (verdict.Store) await ingest.EnqueueAsync(new IngestItem(pubsubTopic, decoded!) { Hash = hash }, ct).ConfigureAwait(false);
        return verdict.Result;
    }

    /// <summary>The verdict on one message's data; <paramref name="message"/> is the decoded message when it decoded.</summary>
    public RelayVerdict Decide(string pubsubTopic, ReadOnlySpan<byte> data, string source, out WakuMessage? message) =>
        Decide(pubsubTopic, data, source, out message, out _);

    // hash: the decoded message's, once it got that far (the store takes it instead of hashing the message again).
    RelayVerdict Decide(string pubsubTopic, ReadOnlySpan<byte> data, string source, out WakuMessage? message, out MessageHash hash)
    {
        message = null;
        hash = default;
        // The size first, before decoding: nwaku's gossipsub refuses larger messages outright.
        if (data.Length > options.MaxMessageBytes) return Reject(RelayReasons.TooLarge);
        try
        {
            message = WakuMessage.Parser.ParseFrom(data).WithPayloadPresent();
        }
        catch (InvalidProtocolBufferException)
        {
            return Reject(RelayReasons.Undecodable);
        }
        if (message.ContentTopic.Length == 0) return Reject(RelayReasons.NoContentTopic);
        var fault = validator.Check(pubsubTopic, message, out _);
        switch (fault)
        {
            case MessageFault.TooLarge: return Reject(RelayReasons.TooLarge);
            case MessageFault.MetaTooLong: return Reject(RelayReasons.MetaTooLong); // nwaku's decoder refuses it
            // nwaku's relay does not check content topics, so honest peers forward these: not ours to pass on, no penalty.
            case MessageFault.ContentTopic or MessageFault.PubsubTopic or MessageFault.Missing: return Ignore(RelayReasons.InvalidContentTopic);
        }
        if (options.RlnRequired)
        {
            // nwaku's RLN validator: a message without a proof, or outside the clock gap, is rejected.
            if (!RlnProofShape.IsWellFormed(message.RateLimitProof.Span)) return Reject(RelayReasons.RlnProofMissing);
            if (!WithinVariance(message.Timestamp)) return Reject(RelayReasons.RlnTimestamp);
        }
        hash = MessageHash.Compute(pubsubTopic, message);
        if (!recent.TryAdd(hash)) return Ignore(RelayReasons.Duplicate);
        var (store, reason) = Storable(pubsubTopic, message, fault, hash, source);
        if (reason is RelayReasons.Unauthorised or RelayReasons.ControlInvalid) return Ignore(reason);
        // On an RLN cluster nothing unverified is forwarded; it is stored by the same rules as elsewhere (spec/relay.md §4).
        if (options.RlnRequired) return new RelayVerdict(ValidationResult.Ignore, store, store ? RelayReasons.RlnUnverified : reason);
        return new RelayVerdict(ValidationResult.Accept, store, reason);
    }

    /// <summary>Whether the archive keeps a valid relayed message (nwaku's archive rules, then the community policy).</summary>
    (bool Store, string Reason) Storable(string pubsubTopic, WakuMessage message, MessageFault fault, in MessageHash hash, string source)
    {
        if (fault == MessageFault.Ephemeral) return (false, RelayReasons.Ephemeral);
        if (fault == MessageFault.Timestamp || !WithinVariance(message.Timestamp)) return (false, RelayReasons.OutsideTimestampWindow);
        var admitted = ingress.Admit(pubsubTopic, message, hash, source);
        return admitted.Rejection switch
        {
            IngressRejection.None => (true, RelayReasons.Stored),
            IngressRejection.Unauthorised => (false, RelayReasons.Unauthorised),
            IngressRejection.ControlInvalid => (false, RelayReasons.ControlInvalid),
            _ => (false, RelayReasons.NotStoredByPolicy),
        };
    }

    bool WithinVariance(long timestamp)
    {
        long now = Timestamp.Now(_clock);
        return timestamp >= now - _varianceNanos && timestamp <= now + _varianceNanos;
    }

    static RelayVerdict Reject(string reason) => new(ValidationResult.Reject, false, reason);

    static RelayVerdict Ignore(string reason) => new(ValidationResult.Ignore, false, reason);
}
