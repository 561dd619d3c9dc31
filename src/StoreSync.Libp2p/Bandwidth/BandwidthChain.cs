namespace StoreSync.Libp2p.Bandwidth;

/// <summary>The token buckets one flow of bytes is charged to, e.g. a community's bucket and the global one: every byte is
/// taken from each, and a chunk goes when the slowest of them allows.</summary>
public sealed class BandwidthChain
{
    /// <summary>Largest piece a paced write is cut into: small enough that a realtime charge or a limit change takes effect
    /// within a few milliseconds at home-link rates, large enough that the per-chunk cost stays negligible.</summary>
    public const int MaxChunkBytes = 16 * 1024;

    readonly TokenBucket[] _buckets;
    readonly TimeProvider _clock;

    /// <summary>A chain that never waits and counts nothing.</summary>
    public static readonly BandwidthChain Unlimited = new([]);

    /// <param name="buckets">Charged in order; they should share one clock (the first one's is used to wait).</param>
    public BandwidthChain(IReadOnlyList<TokenBucket> buckets)
    {
        _buckets = [.. buckets];
        _clock = _buckets.Length > 0 ? _buckets[0].Clock : TimeProvider.System;
    }

    public IReadOnlyList<TokenBucket> Buckets => _buckets;

    /// <summary>The size a paced write is cut into: at most <see cref="MaxChunkBytes"/> and at most the smallest burst, so a
    /// response larger than a burst is paced chunk by chunk rather than refused.</summary>
    public int ChunkBytes
    {
        get
        {
            long chunk = MaxChunkBytes;
            foreach (var b in _buckets)
                if (!b.Unlimited) chunk = Math.Min(chunk, b.BurstBytes);
            return (int)chunk;
        }
    }

    /// <summary>Reserves <paramref name="bytes"/> in every bucket and waits until all of them allow it.</summary>
    /// <remarks>A cancelled wait keeps its charge: the buckets stay conservative by at most one chunk per cancellation.</remarks>
    public ValueTask WaitAsync(int bytes, CancellationToken ct)
    {
        var wait = TimeSpan.Zero;
        foreach (var b in _buckets)
        {
            var w = b.Reserve(bytes);
            if (w > wait) wait = w;
        }
        if (wait == TimeSpan.Zero) return ct.IsCancellationRequested ? ValueTask.FromCanceled(ct) : ValueTask.CompletedTask;
        return new ValueTask(Task.Delay(wait, _clock, ct));
    }

    /// <summary>Charges realtime bytes to every bucket without waiting (<see cref="TokenBucket.Charge"/>).</summary>
    public void Charge(int bytes)
    {
        foreach (var b in _buckets) b.Charge(bytes);
    }
}
