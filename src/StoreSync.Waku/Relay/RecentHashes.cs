using StoreSync.Core;

namespace StoreSync.Waku.Relay;

/// <summary>The Waku message hashes relay saw lately: a copy of a message under another encoding (so another gossipsub
/// id) is a duplicate all the same, neither stored again nor forwarded.</summary>
/// <remarks>Bounded in time (<see cref="RelayLimits.RecentHashTtl"/>) and count (<see cref="RelayLimits.RecentHashCapacity"/>);
/// the oldest entries go first. Thread-safe: validators run concurrently.</remarks>
public sealed class RecentHashes(TimeProvider? clock = null, int capacity = RelayLimits.RecentHashCapacity)
{
    readonly TimeProvider _clock = clock ?? TimeProvider.System;
    readonly Dictionary<MessageHash, long> _seen = [];
    readonly Queue<(MessageHash Hash, long At)> _order = new();
    readonly long _ttlTicks = (long)(RelayLimits.RecentHashTtl.TotalSeconds * (clock ?? TimeProvider.System).TimestampFrequency);

    public int Count { get { lock (_seen) return _seen.Count; } }

    /// <summary>Records the hash; false when it was seen within the time to live (a duplicate).</summary>
    public bool TryAdd(in MessageHash hash)
    {
        long now = _clock.GetTimestamp();
        lock (_seen)
        {
            while (_order.Count > 0 && (now - _order.Peek().At > _ttlTicks || _order.Count >= capacity))
            {
                var (old, at) = _order.Dequeue();
                if (_seen.TryGetValue(old, out long latest) && latest == at) _seen.Remove(old);
            }
            if (_seen.TryGetValue(hash, out long seenAt) && now - seenAt <= _ttlTicks) return false;
            _seen[hash] = now;
            _order.Enqueue((hash, now));
            return true;
        }
    }
}
