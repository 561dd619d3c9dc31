namespace StoreSync.Reconciliation;

/// <summary>Items of one sync scope in (timestamp, hash) order, read by key range.</summary>
/// <remarks>
/// This is all a store must offer: a RocksDB iterator over a (pubsub, timestamp, hash) index implements it
/// with Seek(from) and Next until <c>to</c>. Fingerprints come from <see cref="FingerprintIndex"/> on top.
/// </remarks>
public interface IOrderedSyncItems
{
    /// <summary>Copies the first items of [from, to) in order into <paramref name="destination"/>; returns how many.</summary>
    int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination);
}

/// <summary>What the reconciliation engines read: counts, range fingerprints and the items of a range.</summary>
public interface ISyncItemSource : IOrderedSyncItems
{
    /// <summary>Number of items in the source.</summary>
    long Count { get; }

    /// <summary>XOR and count of the items in [from, to).</summary>
    Fingerprint GetFingerprint(in SyncItem from, in SyncItem to);

    /// <summary>Number of items strictly below <paramref name="item"/> (its lower-bound index).</summary>
    long Rank(in SyncItem item);

    /// <summary>Fingerprints of the consecutive ranges [bounds[i], bounds[i + 1]); bounds ascend.</summary>
    /// <remarks>A split asks for all its children at once, so an index can share the m + 1 boundary lookups.</remarks>
    void GetFingerprints(ReadOnlySpan<SyncItem> bounds, Span<Fingerprint> ranges)
    {
        for (int i = 0; i + 1 < bounds.Length; i++) ranges[i] = GetFingerprint(bounds[i], bounds[i + 1]);
    }
}
