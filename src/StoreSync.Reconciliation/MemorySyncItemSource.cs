namespace StoreSync.Reconciliation;

/// <summary>An in-memory scope: a sorted item array plus its fingerprint index, kept in step.</summary>
public sealed class MemorySyncItemSource : ISyncItemSource
{
    readonly SortedSyncItems _items;
    readonly FingerprintIndex _index;

    public MemorySyncItemSource(IEnumerable<SyncItem>? items = null, int blockSize = FingerprintIndex.DefaultBlockSize)
    {
        var sorted = (items ?? []).Distinct().Order().ToArray();
        _items = SortedSyncItems.FromSorted(sorted, sorted.Length);
        _index = FingerprintIndex.Build(_items, blockSize);
    }

    public long Count => _items.Count;

    public ReadOnlySpan<SyncItem> Items => _items.Items;

    public FingerprintIndex Index => _index;

    public bool Insert(in SyncItem item)
    {
        if (!_items.Insert(item)) return false;
        _index.Insert(item);
        return true;
    }

    public bool Remove(in SyncItem item)
    {
        if (!_items.Remove(item)) return false;
        _index.Remove(item);
        return true;
    }

    public Fingerprint GetFingerprint(in SyncItem from, in SyncItem to) => _index.GetFingerprint(from, to);

    public long Rank(in SyncItem item) => _index.Rank(item);

    public void GetFingerprints(ReadOnlySpan<SyncItem> bounds, Span<Fingerprint> ranges) => _index.GetFingerprints(bounds, ranges);

    public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination) => _items.Read(from, to, destination);
}
