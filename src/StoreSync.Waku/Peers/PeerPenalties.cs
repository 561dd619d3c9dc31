using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Waku.Ingress;

namespace StoreSync.Waku.Peers;

/// <summary>Misbehaviour points per peer: a peer that sends bad data reaches the threshold, is disconnected and refused until its points decay.</summary>
/// <remarks>
/// Points decay by one per <see cref="ForgiveInterval"/>, so an honest client with an occasional bad message never reaches
/// the threshold while a peer that keeps sending forged or invalid messages is cut off within a few messages. Memory is
/// bounded: at most <see cref="MaxTrackedPeers"/> peers are tracked; peers whose points decayed to zero are dropped.
/// Store sync penalises by <see cref="PenaltyReason"/> (<see cref="Penalise(PeerId, PenaltyReason, string)"/>); once
/// <see cref="Attach"/>ed to a host, a peer that reaches the threshold is disconnected and, while refused, its new
/// connections are closed as soon as the handshake proves who it is.
/// </remarks>
public sealed class PeerPenalties
{
    static readonly Meter SyncMeter = new(WakuMetrics.MeterName);
    static readonly Counter<long> PenaltiesCounter = SyncMeter.CreateCounter<long>("storesync_peer_penalties", "{penalty}", "Penalties given to peers that sent bad sync data, by reason");
    static readonly Counter<long> BansCounter = SyncMeter.CreateCounter<long>("storesync_peer_bans", "{ban}", "Peers disconnected for reaching the penalty threshold through sync");
    ILogger _logger = NullLogger.Instance;
    Libp2pHost? _host;

    /// <summary>Points at which a peer is disconnected and refused.</summary>
    public const int DefaultThreshold = 20;

    /// <summary>A message whose claimed hash is not its hash is a forgery, not a mistake: it costs the whole threshold.</summary>
    public const int ForgeryPoints = DefaultThreshold;

    public const int MaxTrackedPeers = 10_000;

    readonly ConcurrentDictionary<string, Score> _scores = new(StringComparer.Ordinal);
    readonly TimeProvider _clock;

    public PeerPenalties(int threshold = DefaultThreshold, TimeSpan? forgiveInterval = null, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, 1);
        Threshold = threshold;
        ForgiveInterval = forgiveInterval ?? TimeSpan.FromMinutes(1);
        _clock = clock ?? TimeProvider.System;
    }

    public int Threshold { get; }

    public TimeSpan ForgiveInterval { get; }

    /// <summary>Peers disconnected for reaching the threshold since start.</summary>
    public long Disconnects => Interlocked.Read(ref _disconnects);
    long _disconnects;

    public int TrackedPeers => _scores.Count;

    /// <summary>Points a message refused at ingress costs its sender; 0 for refusals an honest peer can cause (wrong node, not opted in).</summary>
    public static int PointsFor(IngressRejection rejection) => rejection switch
    {
        IngressRejection.HashMismatch => ForgeryPoints,
        IngressRejection.ControlInvalid => 2,
        IngressRejection.Invalid or IngressRejection.Unauthorised => 1,
        _ => 0,
    };

    /// <summary>Adds points; true when this brought the peer to the threshold (the caller disconnects it, once).</summary>
    public bool Penalise(string peer, int points)
    {
        if (points <= 0) return false;
        long now = _clock.GetTimestamp();
        if (!_scores.TryGetValue(peer, out var score))
        {
            if (_scores.Count >= MaxTrackedPeers) Sweep(now);
            if (_scores.Count >= MaxTrackedPeers) return false; // under a flood of identities, keep the bound rather than track all
            score = _scores.GetOrAdd(peer, _ => new Score(now));
        }
        lock (score)
        {
            Decay(score, now);
            bool below = score.Points < Threshold;
            score.Points += points;
            if (below && score.Points >= Threshold)
            {
                Interlocked.Increment(ref _disconnects);
                return true;
            }
            return false;
        }
    }

    /// <summary>Whether the peer is at or above the threshold now (refuse its requests).</summary>
    public bool IsRefused(string peer)
    {
        if (!_scores.TryGetValue(peer, out var score)) return false;
        lock (score)
        {
            Decay(score, _clock.GetTimestamp());
            return score.Points >= Threshold;
        }
    }

    /// <summary>Current points of a peer (after decay).</summary>
    public int PointsOf(string peer)
    {
        if (!_scores.TryGetValue(peer, out var score)) return 0;
        lock (score)
        {
            Decay(score, _clock.GetTimestamp());
            return score.Points;
        }
    }

    void Decay(Score score, long now)
    {
        long interval = (long)(ForgiveInterval.TotalSeconds * _clock.TimestampFrequency);
        if (interval <= 0) { score.Points = 0; score.Stamp = now; return; }
        long steps = (now - score.Stamp) / interval;
        if (steps <= 0) return;
        score.Points = (int)Math.Max(0, score.Points - Math.Min(steps, int.MaxValue));
        score.Stamp += steps * interval;
    }

    void Sweep(long now)
    {
        foreach (var (peer, score) in _scores)
        {
            lock (score)
            {
                Decay(score, now);
                if (score.Points == 0) _scores.TryRemove(peer, out _);
            }
        }
    }

    sealed class Score(long stamp)
    {
        public int Points;
        public long Stamp = stamp;
    }

    /// <summary>Points a sync offence costs (threshold 20): a frame over the limit half of it, a forged or unannounced push a fifth.</summary>
    public static int PointsFor(PenaltyReason reason) => reason switch
    {
        PenaltyReason.OversizedFrame => 10,
        PenaltyReason.MalformedFrame => 5,
        PenaltyReason.ProtocolViolation => 5,
        PenaltyReason.UnannouncedMessage => 4,
        PenaltyReason.InvalidMessage => 2,
        PenaltyReason.UnservedTopic => 1,
        _ => 1,
    };

    /// <summary>The offence a frame that cannot be taken is: one above the protocol's limit (<see cref="FrameTooLargeException"/>)
    /// or one that does not frame or decode.</summary>
    public static PenaltyReason ReasonFor(Exception frameError) =>
        frameError is FrameTooLargeException ? PenaltyReason.OversizedFrame : PenaltyReason.MalformedFrame;

    /// <summary>Logs penalties, disconnects peers when they reach the threshold, and closes new connections of refused peers.</summary>
    public void Attach(Libp2pHost host, ILogger? logger = null)
    {
        _host = host;
        if (logger is not null) _logger = logger;
        host.PeerConnected += connection =>
        {
            if (IsRefused(connection.RemotePeer.ToString())) _ = connection.CloseAsync("refused: this peer sent too much bad data");
        };
    }

    /// <summary>Penalises a sync offence; true while the peer is refused (it has just been disconnected, or already was).</summary>
    public bool Penalise(PeerId peer, PenaltyReason reason, string detail)
    {
        var id = peer.ToString();
        bool reached = Penalise(id, PointsFor(reason));
        PenaltiesCounter.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));
        _logger.LogWarning("Penalised {Peer} for {Reason} ({Points}/{Threshold} points): {Detail}", peer, reason, PointsOf(id), Threshold, detail);
        if (reached)
        {
            BansCounter.Add(1);
            _logger.LogWarning("Disconnecting {Peer}: {Threshold} penalty points, refused until they decay", peer, Threshold);
            if (_host?.FindConnection(peer) is { } connection) _ = connection.CloseAsync($"refused: {Threshold} penalty points after {reason} ({detail})");
        }
        return IsRefused(id);
    }

    /// <summary>Whether the peer is refused now (its streams are reset, the scheduler does not dial it).</summary>
    public bool IsBanned(PeerId peer) => IsRefused(peer.ToString());

    /// <summary>Current points of a peer.</summary>
    public int ScoreOf(PeerId peer) => PointsOf(peer.ToString());
}

/// <summary>What a peer did wrong in store sync; each reason has its points (<see cref="PeerPenalties.PointsFor(PenaltyReason)"/>).</summary>
public enum PenaltyReason
{
    /// <summary>A frame that does not decode (reconciliation payload, transfer protobuf).</summary>
    MalformedFrame,
    /// <summary>A frame above the protocol's size limit.</summary>
    OversizedFrame,
    /// <summary>A well-formed frame that breaks the protocol (order, counts, round cap, state).</summary>
    ProtocolViolation,
    /// <summary>A pushed message whose recomputed hash was never announced: forged, altered or unsolicited.</summary>
    UnannouncedMessage,
    /// <summary>A pushed message that fails validation.</summary>
    InvalidMessage,
    /// <summary>A pushed message on a pubsub topic this node does not serve.</summary>
    UnservedTopic,
}
