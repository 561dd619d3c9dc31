using System.Net;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>
/// A token bucket per source IP address, in a table of bounded size: what one address may make this node spend, so a
/// flood from one address costs a dictionary look-up per packet once its tokens are gone.
/// </summary>
/// <remarks>Not thread-safe: the receive loop is its only user.</remarks>
public sealed class AddressRateLimiter(int burst, double perSecond, int maxAddresses, TimeProvider time)
{
    readonly Dictionary<IPAddress, Bucket> _buckets = [];

    sealed class Bucket
    {
        public double Tokens;
        public long Stamp;
    }

    public int TrackedAddresses => _buckets.Count;

    /// <summary>Takes <paramref name="cost"/> tokens from <paramref name="address"/>'s bucket; false (nothing taken) when it has fewer.</summary>
    public bool TryTake(IPAddress address, int cost)
    {
        long now = time.GetTimestamp();
        if (!_buckets.TryGetValue(address, out var bucket))
        {
            if (_buckets.Count >= maxAddresses) Prune(now);
            bucket = new Bucket { Tokens = burst, Stamp = now };
            _buckets[address] = bucket;
        }
        else
        {
            bucket.Tokens = Math.Min(burst, bucket.Tokens + time.GetElapsedTime(bucket.Stamp, now).TotalSeconds * perSecond);
            bucket.Stamp = now;
        }
        if (bucket.Tokens < cost) return false;
        bucket.Tokens -= cost;
        return true;
    }

    void Prune(long now)
    {
        // Addresses whose bucket has refilled cost nothing to forget: they start full again when they come back.
        foreach (var (address, bucket) in _buckets)
            if (bucket.Tokens + time.GetElapsedTime(bucket.Stamp, now).TotalSeconds * perSecond >= burst) _buckets.Remove(address);
        // Every tracked address is busy (many sources flooding at once): start over rather than grow.
        if (_buckets.Count >= maxAddresses) _buckets.Clear();
    }
}
