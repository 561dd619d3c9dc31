namespace StoreSync.Node.Governor;

/// <summary>A fixed ring of per-interval byte counts (the dashboard's graphs): one sample per <see cref="GovernorLimits.SampleInterval"/>.</summary>
public sealed class TrafficSeries
{
    readonly long[] _samples = new long[GovernorLimits.SamplesKept];
    readonly Lock _lock = new();
    int _next, _count;
    long _lastTotal = -1;

    /// <summary>Records the bytes since the previous sample, given the running total.</summary>
    public void Sample(long total)
    {
        lock (_lock)
        {
            long delta = _lastTotal < 0 ? 0 : Math.Max(0, total - _lastTotal);
            _lastTotal = total;
            _samples[_next] = delta;
            _next = (_next + 1) % _samples.Length;
            _count = Math.Min(_count + 1, _samples.Length);
        }
    }

    /// <summary>The samples, oldest first.</summary>
    public long[] Snapshot()
    {
        lock (_lock)
        {
            var result = new long[_count];
            int start = (_next - _count + _samples.Length) % _samples.Length;
            for (int i = 0; i < _count; i++) result[i] = _samples[(start + i) % _samples.Length];
            return result;
        }
    }
}
