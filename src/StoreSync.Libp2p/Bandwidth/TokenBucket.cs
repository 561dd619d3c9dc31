namespace StoreSync.Libp2p.Bandwidth;

/// <summary>A token bucket of bytes: <see cref="BytesPerSecond"/> sustained, <see cref="BurstBytes"/> at once after idling.</summary>
/// <remarks>
/// Kept as the time at which the bucket will be full again (the generic cell rate algorithm), in <see cref="TimeSpan"/> ticks
/// with integer arithmetic, so pacing is exact and testable with a fake clock. A reservation takes its bytes at once (the bucket
/// may go into debt) and tells the caller how long to wait before sending them: concurrent senders are served in the order they
/// reserved, and none can starve another. A rate of 0 means unlimited: reservations never wait, bytes are still counted.
/// </remarks>
public sealed class TokenBucket
{
    /// <summary>How far realtime traffic (<see cref="Charge"/>) may put the bucket into debt beyond an empty bucket: history
    /// traffic waits at most this long after realtime traffic stops.</summary>
    public static readonly TimeSpan MaxRealtimeDebt = TimeSpan.FromSeconds(1);

    /// <summary>The smallest burst: one chunk of a paced write must fit.</summary>
    public const long MinBurstBytes = 1024;

    readonly TimeProvider _clock;
    readonly long _origin;
    readonly Lock _lock = new();
    long _bytesPerSecond, _burstBytes;
    long _fullAt;          // ticks since _origin at which the bucket is full again; <= now means full
    long _pacedBytes, _realtimeBytes;

    /// <param name="bytesPerSecond">Sustained rate; 0 = unlimited.</param>
    /// <param name="burstBytes">Bytes that may go at once after idling; at least <see cref="MinBurstBytes"/>.</param>
    public TokenBucket(long bytesPerSecond, long burstBytes, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        _origin = _clock.GetTimestamp();
        SetLimit(bytesPerSecond, burstBytes);
    }

    public TimeProvider Clock => _clock;

    public long BytesPerSecond { get { lock (_lock) return _bytesPerSecond; } }

    public long BurstBytes { get { lock (_lock) return _burstBytes; } }

    public bool Unlimited => BytesPerSecond == 0;

    /// <summary>Bytes reserved by paced (history) traffic since creation.</summary>
    public long PacedBytes => Interlocked.Read(ref _pacedBytes);

    /// <summary>Bytes charged by realtime traffic since creation.</summary>
    public long RealtimeBytes => Interlocked.Read(ref _realtimeBytes);

    public long TotalBytes => PacedBytes + RealtimeBytes;

    /// <summary>Changes the limit live; the debt already owed (in bytes) is kept and repaid at the new rate.</summary>
    public void SetLimit(long bytesPerSecond, long burstBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(burstBytes, MinBurstBytes);
        lock (_lock)
        {
            long now = Now();
            long owedTicks = Math.Max(0, _fullAt - now);
            long owedBytes = _bytesPerSecond == 0 ? 0 : BytesIn(owedTicks, _bytesPerSecond);
            _bytesPerSecond = bytesPerSecond;
            _burstBytes = burstBytes;
            _fullAt = bytesPerSecond == 0 ? now : now + TicksFor(owedBytes, bytesPerSecond);
        }
    }

    /// <summary>Tokens available now (negative while in debt); <see cref="long.MaxValue"/> when unlimited.</summary>
    public long Available
    {
        get
        {
            lock (_lock)
            {
                if (_bytesPerSecond == 0) return long.MaxValue;
                return _burstBytes - BytesIn(Math.Max(0, _fullAt - Now()), _bytesPerSecond);
            }
        }
    }

    /// <summary>Takes <paramref name="bytes"/> now and returns how long the caller must wait before sending them (zero when tokens suffice).</summary>
    public TimeSpan Reserve(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Interlocked.Add(ref _pacedBytes, bytes);
        lock (_lock)
        {
            if (_bytesPerSecond == 0) return TimeSpan.Zero;
            long now = Now();
            _fullAt = Math.Max(_fullAt, now) + TicksFor(bytes, _bytesPerSecond);
            long readyAt = _fullAt - TicksFor(_burstBytes, _bytesPerSecond, roundUp: false);
            return TimeSpan.FromTicks(Math.Max(0, readyAt - now));
        }
    }

    /// <summary>Charges realtime bytes that are never delayed: they use up tokens (down to <see cref="MaxRealtimeDebt"/> of
    /// debt) so that paced traffic waits for them.</summary>
    public void Charge(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Interlocked.Add(ref _realtimeBytes, bytes);
        lock (_lock)
        {
            if (_bytesPerSecond == 0) return;
            long now = Now();
            long cap = now + TicksFor(_burstBytes, _bytesPerSecond, roundUp: false) + MaxRealtimeDebt.Ticks;
            _fullAt = Math.Min(Math.Max(_fullAt, now) + TicksFor(bytes, _bytesPerSecond), Math.Max(cap, _fullAt));
        }
    }

    long Now() => _clock.GetElapsedTime(_origin).Ticks;

    static long TicksFor(long bytes, long bytesPerSecond, bool roundUp = true)
    {
        var product = (Int128)bytes * TimeSpan.TicksPerSecond;
        var ticks = product / bytesPerSecond;
        if (roundUp && product % bytesPerSecond != 0) ticks++;
        return ticks > long.MaxValue / 4 ? long.MaxValue / 4 : (long)ticks;
    }

    static long BytesIn(long ticks, long bytesPerSecond) => (long)((Int128)ticks * bytesPerSecond / TimeSpan.TicksPerSecond);
}
