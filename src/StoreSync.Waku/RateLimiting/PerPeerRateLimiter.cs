using System.Collections.Concurrent;

namespace StoreSync.Waku.RateLimiting;

/// <summary>A token bucket per peer: a peer past its rate is refused at once (429) instead of slowing everyone down.</summary>
/// <remarks>
/// Buckets of peers idle for longer than a full refill are dropped on the next sweep, so memory stays bounded by the
/// number of peers active within one refill period (and the connection manager bounds those).
/// </remarks>
public sealed class PerPeerRateLimiter
{
    readonly double _ratePerSecond;
    readonly double _burst;
    readonly TimeProvider _clock;
    readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    long _nextSweep;

    /// <param name="ratePerSecond">Sustained requests per second per peer; 0 disables limiting.</param>
    /// <param name="burst">Requests a peer may make at once after being idle; at least 1.</param>
    public PerPeerRateLimiter(double ratePerSecond, double burst, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ratePerSecond);
        _ratePerSecond = ratePerSecond;
        _burst = Math.Max(1, burst);
        _clock = clock ?? TimeProvider.System;
    }

    public bool Enabled => _ratePerSecond > 0;

    /// <summary>Takes one token for <paramref name="peer"/>; false means refuse the request.</summary>
    public bool TryAcquire(string peer)
    {
        if (!Enabled) return true;
        long now = _clock.GetTimestamp();
        Sweep(now);
        var bucket = _buckets.GetOrAdd(peer, _ => new Bucket(_burst, now));
        lock (bucket)
        {
            double elapsed = (now - bucket.Stamp) / (double)_clock.TimestampFrequency;
            bucket.Tokens = Math.Min(_burst, bucket.Tokens + elapsed * _ratePerSecond);
            bucket.Stamp = now;
            if (bucket.Tokens < 1) return false;
            bucket.Tokens -= 1;
            return true;
        }
    }

    void Sweep(long now)
    {
        long next = Interlocked.Read(ref _nextSweep);
        if (now < next) return;
        long refill = (long)(_burst / _ratePerSecond * _clock.TimestampFrequency) + _clock.TimestampFrequency;
        if (Interlocked.CompareExchange(ref _nextSweep, now + refill, next) != next) return;
        foreach (var (peer, bucket) in _buckets)
            if (now - bucket.Stamp > refill) _buckets.TryRemove(peer, out _);
    }

    public int TrackedPeers => _buckets.Count;

    sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens = tokens;
        public long Stamp = stamp;
    }
}
