using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Waku.Peers;

/// <summary>What a peer did wrong; each reason has a weight (<see cref="PeerPenalties.WeightOf"/>).</summary>
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

/// <summary>Scores peers that send bad data; past <see cref="PeerPenaltyOptions.Threshold"/> a peer is disconnected and banned for a while.</summary>
/// <remarks>
/// Scores decay (half-life <see cref="PeerPenaltyOptions.HalfLife"/>) so a rare glitch never adds up to a ban, while a peer
/// that keeps sending garbage crosses the threshold within a few sessions. A banned peer's connections are closed, new
/// inbound connections from it are closed at once (once the handshake proved who it is), and the scheduler does not dial it.
/// Memory: one entry per peer penalised recently; entries whose score decayed away are swept.
/// </remarks>
public sealed class PeerPenalties : IDisposable
{
    readonly PeerPenaltyOptions _options;
    readonly TimeProvider _clock;
    readonly ILogger _logger;
    readonly ConcurrentDictionary<PeerId, Entry> _entries = new();
    readonly Meter _meter;
    readonly Counter<long> _penalties, _bans;
    Libp2pHost? _host;

    public PeerPenalties(PeerPenaltyOptions? options = null, TimeProvider? clock = null, ILogger<PeerPenalties>? logger = null, IMeterFactory? meters = null)
    {
        _options = options ?? new PeerPenaltyOptions();
        _clock = clock ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _meter = meters?.Create(WakuMetrics.MeterName) ?? new Meter(WakuMetrics.MeterName);
        _penalties = _meter.CreateCounter<long>("storesync_peer_penalties", "{penalty}", "Penalties given to peers that sent bad data, by reason");
        _bans = _meter.CreateCounter<long>("storesync_peer_bans", "{ban}", "Peers disconnected and banned for crossing the penalty threshold");
    }

    /// <summary>Raised when a peer crosses the threshold (after its connections were asked to close).</summary>
    public event Action<PeerId, string>? Banned;

    public static int WeightOf(PenaltyReason reason) => reason switch
    {
        PenaltyReason.OversizedFrame => 50,
        PenaltyReason.MalformedFrame => 25,
        PenaltyReason.ProtocolViolation => 25,
        PenaltyReason.UnannouncedMessage => 20,
        PenaltyReason.InvalidMessage => 10,
        PenaltyReason.UnservedTopic => 5,
        _ => 10,
    };

    /// <summary>Closes connections of banned peers as soon as they connect, and disconnects peers when they get banned.</summary>
    public void Attach(Libp2pHost host)
    {
        _host = host;
        host.PeerConnected += connection =>
        {
            if (IsBanned(connection.RemotePeer)) _ = connection.CloseAsync("banned for sending bad data");
        };
    }

    /// <summary>Adds the reason's weight to the peer's score; true if this made (or kept) the peer banned.</summary>
    public bool Penalise(PeerId peer, PenaltyReason reason, string detail)
    {
        var now = _clock.GetUtcNow();
        Sweep(now);
        var entry = _entries.GetOrAdd(peer, _ => new Entry());
        bool newlyBanned;
        double score;
        lock (entry)
        {
            entry.Score = Decayed(entry, now) + WeightOf(reason);
            entry.Stamp = now;
            newlyBanned = entry.Score >= _options.Threshold && entry.BannedUntil <= now;
            if (newlyBanned) entry.BannedUntil = now + _options.BanDuration;
            score = entry.Score;
        }
        _penalties.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));
        _logger.LogWarning("Penalised {Peer} for {Reason} (score {Score:0}/{Threshold}): {Detail}", peer, reason, score, _options.Threshold, detail);
        if (newlyBanned)
        {
            _bans.Add(1);
            var why = $"banned for {_options.BanDuration.TotalMinutes:0.#} min: penalty score {score:0} after {reason} ({detail})";
            _logger.LogWarning("Disconnecting {Peer}: {Why}", peer, why);
            if (_host?.FindConnection(peer) is { } connection) _ = connection.CloseAsync(why);
            try { Banned?.Invoke(peer, why); }
            catch (Exception e) { _logger.LogError(e, "A ban handler threw"); }
        }
        return IsBanned(peer);
    }

    public bool IsBanned(PeerId peer) =>
        _entries.TryGetValue(peer, out var entry) && entry.BannedUntil > _clock.GetUtcNow();

    /// <summary>The peer's current (decayed) score; 0 for a peer never penalised.</summary>
    public double ScoreOf(PeerId peer)
    {
        if (!_entries.TryGetValue(peer, out var entry)) return 0;
        lock (entry) return Decayed(entry, _clock.GetUtcNow());
    }

    /// <summary>Peers currently tracked (penalised within a few half-lives, or banned).</summary>
    public int TrackedPeers => _entries.Count;

    double Decayed(Entry entry, DateTimeOffset now)
    {
        double halfLives = Math.Max(0, (now - entry.Stamp).TotalSeconds) / _options.HalfLife.TotalSeconds;
        return entry.Score * Math.Pow(0.5, halfLives);
    }

    void Sweep(DateTimeOffset now)
    {
        if (_entries.Count < _options.SweepAbove) return;
        foreach (var (peer, entry) in _entries)
        {
            lock (entry)
                if (entry.BannedUntil <= now && Decayed(entry, now) < 1) _entries.TryRemove(peer, out _);
        }
    }

    public void Dispose() => _meter.Dispose();

    sealed class Entry
    {
        public double Score;
        public DateTimeOffset Stamp;
        public DateTimeOffset BannedUntil;
    }
}

/// <summary>Penalty threshold, ban duration and decay.</summary>
public sealed record PeerPenaltyOptions
{
    /// <summary>Score at which a peer is disconnected and banned (e.g. 4 malformed frames, 5 forged messages in a short time).</summary>
    public double Threshold { get; init; } = 100;

    public TimeSpan BanDuration { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>A score halves over this time.</summary>
    public TimeSpan HalfLife { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Decayed entries are swept once this many peers are tracked.</summary>
    public int SweepAbove { get; init; } = 1024;
}
