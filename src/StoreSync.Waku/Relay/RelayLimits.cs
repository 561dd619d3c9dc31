using StoreSync.Core;

namespace StoreSync.Waku.Relay;

/// <summary>The limits of Waku relay in one place (spec/relay.md §5).</summary>
public static class RelayLimits
{
    /// <summary>Waku's relay protocol id (nwaku WakuRelayCodec, js-waku RelayCodecs).</summary>
    public const string ProtocolId = "/vac/waku/relay/2.0.0";

    /// <summary>nwaku's DefaultMaxWakuMessageSize (150 KiB): the largest encoded WakuMessage relayed.</summary>
    public const int DefaultMaxMessageBytes = MessageValidator.DefaultMaxMessageBytes;

    /// <summary>nwaku's archive MaxMessageTimestampVariance and RLN MaxClockGapSeconds: a relayed message is stored only
    /// within this much of now, and on an RLN cluster one outside it is rejected.</summary>
    public static readonly TimeSpan TimestampVariance = TimeSpan.FromSeconds(20);

    /// <summary>How long a Waku message hash is remembered to drop re-encoded copies (gossipsub's seenTTL in nwaku: 2 min).</summary>
    public static readonly TimeSpan RecentHashTtl = TimeSpan.FromMinutes(2);

    /// <summary>Most hashes remembered; at 10,000 messages/s for 2 min the oldest go first (about 10 MiB).</summary>
    public const int RecentHashCapacity = 1 << 18;

    /// <summary>Group commit: most messages in one RocksDB write batch.</summary>
    public const int IngestBatchMessages = 512;

    /// <summary>Group commit: longest a message waits for its batch to fill.</summary>
    public static readonly TimeSpan IngestFlushInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Accepted messages waiting for the writer; past this the validators wait (backpressure on the senders).</summary>
    public const int IngestQueueCapacity = 16_384;

    /// <summary>Messages kept per subscribed pubsub topic for <c>GET /relay/v1/messages</c> (nwaku's REST relay cache).</summary>
    public const int RestCacheMessagesPerTopic = 50;
}
