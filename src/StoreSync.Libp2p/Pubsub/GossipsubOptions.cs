using System.Security.Cryptography;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>
/// Everything that configures a <see cref="GossipsubRouter"/>: protocol ids, message id, signature policy, limits and the
/// gossipsub v1.1 parameters. The defaults are the libp2p specification's; <see cref="Waku"/> is the set Waku relay uses.
/// </summary>
public sealed record GossipsubOptions
{
    /// <summary>gossipsub v1.1's own protocol id.</summary>
    public const string MeshsubV11 = "/meshsub/1.1.0";

    /// <summary>Protocol ids offered and accepted, in order of preference (the first one a peer supports is used).</summary>
    public IReadOnlyList<string> ProtocolIds { get; init; } = [MeshsubV11];

    /// <summary>Gives each message its id. Default: SHA-256 of the data (content addressing, as under StrictNoSign it must be).</summary>
    public MessageIdFunction MessageId { get; init; } = Sha256OfData;

    public SignaturePolicy SignaturePolicy { get; init; } = SignaturePolicy.StrictNoSign;

    /// <summary>Largest message data accepted or published; a larger received one is rejected (penalised).</summary>
    public int MaxMessageSize { get; init; } = 1024 * 1024;

    /// <summary>Largest RPC frame read from a peer; a larger announced frame resets the stream before it is read.</summary>
    public int MaxRpcSize { get; init; } = 1024 * 1024 + 64 * 1024;

    /// <summary>Frames queued for one peer; beyond it new frames for that peer are dropped (a slow peer cannot hold memory).</summary>
    public int MaxQueuedFramesPerPeer { get; init; } = 4096;

    /// <summary>D: the desired mesh degree.</summary>
    public int D { get; init; } = 6;

    /// <summary>D_lo: below it the heartbeat grafts.</summary>
    public int DLow { get; init; } = 5;

    /// <summary>D_hi: above it the heartbeat prunes back to D.</summary>
    public int DHigh { get; init; } = 12;

    /// <summary>D_score: peers kept by score when pruning an oversubscribed mesh.</summary>
    public int DScore { get; init; } = 4;

    /// <summary>D_out: outbound peers the mesh keeps at least (sybil resistance).</summary>
    public int DOut { get; init; } = 2;

    /// <summary>D_lazy: the least number of peers gossip (IHAVE) is sent to per topic and heartbeat.</summary>
    public int DLazy { get; init; } = 6;

    /// <summary>Share of eligible non-mesh peers that receive gossip when more than <see cref="DLazy"/>.</summary>
    public double GossipFactor { get; init; } = 0.25;

    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan HeartbeatInitialDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A fanout topic not published to for this long is forgotten.</summary>
    public TimeSpan FanoutTtl { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>mcache_len: heartbeats a message stays retrievable by IWANT.</summary>
    public int HistoryLength { get; init; } = 5;

    /// <summary>mcache_gossip: the most recent heartbeats whose message ids are gossiped.</summary>
    public int HistoryGossip { get; init; } = 3;

    /// <summary>Upper bound of the payload bytes the message cache holds; beyond it the oldest windows are dropped early.</summary>
    public long MessageCacheMaxBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>How long a message id is remembered as seen.</summary>
    public TimeSpan SeenTtl { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Upper bound of remembered message ids (about 32 bytes each); beyond it the oldest are forgotten early.</summary>
    public int SeenCacheCapacity { get; init; } = 1_250_000;

    /// <summary>Backoff after a PRUNE (sent with ours, assumed when a peer's PRUNE has none).</summary>
    public TimeSpan PruneBackoff { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Backoff announced in the PRUNEs of an unsubscribe.</summary>
    public TimeSpan UnsubscribeBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A GRAFT this soon after our PRUNE (still in backoff) costs an extra behaviour penalty.</summary>
    public TimeSpan GraftFloodThreshold { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Send our own messages to every topic peer above the publish threshold, not only the mesh.</summary>
    public bool FloodPublish { get; init; } = true;

    /// <summary>Send peer exchange (other peers' ids) in our PRUNEs.</summary>
    public bool EnablePeerExchange { get; init; } = true;

    /// <summary>Peers listed in one PRUNE's exchange, sent and followed.</summary>
    public int PrunePeers { get; init; } = 16;

    /// <summary>Most message ids taken from one peer's IHAVEs per heartbeat, and listed in one IHAVE of ours.</summary>
    public int MaxIHaveLength { get; init; } = 5000;

    /// <summary>Most IHAVE messages of one peer handled per heartbeat.</summary>
    public int MaxIHaveMessages { get; init; } = 10;

    /// <summary>A message asked for with IWANT must arrive within this, or the promise is broken (behaviour penalty).</summary>
    public TimeSpan IWantFollowupTime { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Most times one message is sent to one peer in answer to its IWANTs.</summary>
    public int GossipRetransmission { get; init; } = 3;

    /// <summary>Every this many heartbeats opportunistic grafting runs.</summary>
    public int OpportunisticGraftTicks { get; init; } = 60;

    public int OpportunisticGraftPeers { get; init; } = 2;

    /// <summary>Close the connection of a peer whose score falls below the graylist threshold.</summary>
    public bool DisconnectBadPeers { get; init; }

    public PeerScoreParams Score { get; init; } = new();

    public PeerScoreThresholds Thresholds { get; init; } = new();

    /// <summary>The clock the heartbeat, caches and scores use.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Waku's message id: SHA-256 of the data.</summary>
    public static bool Sha256OfData(string topic, ReadOnlySpan<byte> data, out byte[] messageId)
    {
        messageId = SHA256.HashData(data);
        return true;
    }

    /// <summary>
    /// Waku relay's configuration: protocol id <c>/vac/waku/relay/2.0.0</c>, SHA-256 message ids, StrictNoSign, 150 KiB
    /// messages, and the gossipsub and scoring parameters of nwaku (now logos-delivery)
    /// <c>logos_delivery/waku/waku_relay/protocol.nim</c> (GossipsubParameters, TopicParameters; the values nim-libp2p's
    /// <c>GossipSubParams.init</c> fills in where nwaku sets none) and js-waku <c>packages/relay/src/constants.ts</c>.
    /// </summary>
    public static GossipsubOptions Waku => new()
    {
        ProtocolIds = [WakuRelayProtocolId],
        MessageId = Sha256OfData,
        SignaturePolicy = SignaturePolicy.StrictNoSign,
        // nwaku DefaultMaxWakuMessageSize ("150KiB"); its RPC frame limit adds DefaultSafetyBufferProtocolOverhead (64 KiB).
        MaxMessageSize = 150 * 1024,
        MaxRpcSize = 150 * 1024 + 64 * 1024,
        D = 6,
        DLow = 4,
        DHigh = 8,
        DScore = 6,
        DOut = 3,
        DLazy = 6,
        GossipFactor = 0.25,
        HeartbeatInterval = TimeSpan.FromSeconds(1),
        FanoutTtl = TimeSpan.FromMinutes(1),
        HistoryLength = 6,
        HistoryGossip = 3,
        SeenTtl = TimeSpan.FromMinutes(2),
        PruneBackoff = TimeSpan.FromMinutes(1),
        UnsubscribeBackoff = TimeSpan.FromSeconds(5),
        FloodPublish = true,
        // nim-libp2p's enablePX defaults to false and nwaku does not set it: nwaku sends no peer exchange.
        EnablePeerExchange = false,
        // nwaku disconnectBadPeers = true: a peer below the graylist threshold is disconnected.
        DisconnectBadPeers = true,
        Thresholds = new PeerScoreThresholds
        {
            GossipThreshold = -100,
            PublishThreshold = -1000,
            GraylistThreshold = -10000,
            AcceptPXThreshold = 0, // not set by nwaku: nim-libp2p's zero
            OpportunisticGraftThreshold = 0,
        },
        Score = new PeerScoreParams
        {
            DefaultTopic = WakuTopicScore,
            AppSpecificWeight = 0,
            IpColocationFactorWeight = -50,
            IpColocationFactorThreshold = 5,
            BehaviourPenaltyWeight = -10,
            BehaviourPenaltyDecay = 0.986,
            DecayInterval = TimeSpan.FromSeconds(12),
            DecayToZero = 0.01,
            RetainScore = TimeSpan.FromMinutes(10),
        },
    };

    /// <summary>Waku relay's protocol id (nwaku WakuRelayCodec, js-waku RelayCodecs).</summary>
    public const string WakuRelayProtocolId = "/vac/waku/relay/2.0.0";

    /// <summary>nwaku's TopicParameters, set for every subscribed pubsub topic (P3 and P3b off).</summary>
    public static TopicScoreParams WakuTopicScore => new()
    {
        TopicWeight = 1,
        TimeInMeshWeight = 0.01,
        TimeInMeshQuantum = TimeSpan.FromSeconds(1),
        TimeInMeshCap = 10,
        FirstMessageDeliveriesWeight = 1,
        FirstMessageDeliveriesDecay = 0.5,
        FirstMessageDeliveriesCap = 10,
        MeshMessageDeliveriesWeight = 0,
        MeshFailurePenaltyWeight = 0,
        InvalidMessageDeliveriesWeight = -100,
        InvalidMessageDeliveriesDecay = 0.5,
    };
}
