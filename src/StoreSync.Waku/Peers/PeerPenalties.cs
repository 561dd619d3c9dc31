using System.Collections.Concurrent;
using StoreSync.Waku.Ingress;

namespace StoreSync.Waku.Peers;

/// <summary>Misbehaviour points per peer: a peer that sends bad data reaches the threshold, is disconnected and refused until its points decay.</summary>
/// <remarks>
/// Points decay by one per <see cref="ForgiveInterval"/>, so an honest client with an occasional bad message never reaches
/// the threshold while a peer that keeps sending forged or invalid messages is cut off within a few messages. Memory is
/// bounded: at most <see cref="MaxTrackedPeers"/> peers are tracked; peers whose points decayed to zero are dropped.
/// </remarks>
public sealed class PeerPenalties
{
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
}
