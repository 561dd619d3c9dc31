using StoreSync.Core.Proto;

namespace StoreSync.Core;

/// <summary>Checks that a message may be stored: topics, size, meta length and a plausible timestamp.</summary>
public sealed class MessageValidator
{
    /// <summary>nwaku's DefaultMaxWakuMessageSizeStr = "150KiB".</summary>
    public const int DefaultMaxMessageBytes = 150 * 1024;

    /// <summary>nwaku's MaxMetaAttrLength.</summary>
    public const int MaxMetaBytes = 64;

    /// <summary>nwaku's MaxMessageTimestampVariance, applied to the future only: history is old by nature.</summary>
    public static readonly TimeSpan DefaultMaxFutureSkew = TimeSpan.FromSeconds(20);

    /// <summary>2015-01-01: Waku did not exist before; an earlier timestamp is a unit mistake (s or ms instead of ns).</summary>
    public static readonly long EarliestPlausibleTimestamp = Timestamp.FromDateTimeOffset(new DateTimeOffset(2015, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public int MaxMessageBytes { get; init; } = DefaultMaxMessageBytes;
    public TimeSpan MaxFutureSkew { get; init; } = DefaultMaxFutureSkew;
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public static MessageValidator Default { get; } = new();

    public bool TryValidate(string pubsubTopic, WakuMessage message, out string error) => Check(pubsubTopic, message, out error) == MessageFault.None;

    /// <summary>Like <see cref="TryValidate"/>, naming which rule failed (relay maps each to a gossipsub verdict).</summary>
    public MessageFault Check(string pubsubTopic, WakuMessage message, out string error)
    {
        if (!PubsubTopic.TryValidate(pubsubTopic, out error)) return MessageFault.PubsubTopic;
        if (message is null) { error = "message is missing"; return MessageFault.Missing; }
        if (!ContentTopic.TryValidate(message.ContentTopic, out error)) return MessageFault.ContentTopic;
        int size = message.CalculateSize();
        if (size > MaxMessageBytes)
        {
            error = $"message is {size} bytes, above the limit of {MaxMessageBytes} bytes";
            return MessageFault.TooLarge;
        }
        if (message.HasMeta && message.Meta.Length > MaxMetaBytes)
        {
            error = $"meta is {message.Meta.Length} bytes, above the limit of {MaxMetaBytes} bytes";
            return MessageFault.MetaTooLong;
        }
        if (message.Ephemeral)
        {
            error = "message is ephemeral; ephemeral messages are not stored";
            return MessageFault.Ephemeral;
        }
        if (!message.HasTimestamp || message.Timestamp == 0)
        {
            error = "message has no timestamp";
            return MessageFault.Timestamp;
        }
        if (message.Timestamp < EarliestPlausibleTimestamp)
        {
            error = $"timestamp {message.Timestamp} is before 2015-01-01; Waku timestamps are nanoseconds since the Unix epoch";
            return MessageFault.Timestamp;
        }
        long latest = Timestamp.Now(Clock) + (long)(MaxFutureSkew.TotalMilliseconds * Timestamp.NanosPerMillisecond);
        if (message.Timestamp > latest)
        {
            error = $"timestamp {Timestamp.Format(message.Timestamp)} is more than {MaxFutureSkew.TotalSeconds:0.###} s in the future";
            return MessageFault.Timestamp;
        }
        error = "";
        return MessageFault.None;
    }

    public void Validate(string pubsubTopic, WakuMessage message)
    {
        if (!TryValidate(pubsubTopic, message, out var error)) throw new MessageValidationException(error);
    }
}
