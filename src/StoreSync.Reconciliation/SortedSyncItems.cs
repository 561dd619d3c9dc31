namespace StoreSync.Reconciliation;

/// <summary>An in-memory ordered item store (a sorted array) for tests, benchmarks and small scopes.</summary>
/// <remarks>Insert and delete shift the array (O(n)); a node uses the storage layer's index instead.</remarks>
public sealed class SortedSyncItems : IOrderedSyncItems
{
    SyncItem[] _items;
    int _count;

    public SortedSyncItems(int capacity = 16) => _items = new SyncItem[Math.Max(capacity, 1)];

    /// <summary>Wraps an already sorted, duplicate-free array without copying.</summary>
    public static SortedSyncItems FromSorted(SyncItem[] sorted, int count)
    {
        for (int i = 1; i < count; i++)
            if (sorted[i - 1] >= sorted[i]) throw new ArgumentException("items must be strictly ascending", nameof(sorted));
        return new SortedSyncItems(1) { _items = sorted, _count = count };
    }

    public int Count => _count;

    public ReadOnlySpan<SyncItem> Items => _items.AsSpan(0, _count);

    int LowerBound(in SyncItem key)
    {
        int lo = 0, hi = _count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_items[mid] < key) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Adds an item; false if it is already present.</summary>
    public bool Insert(in SyncItem item)
    {
        int at = LowerBound(item);
        if (at < _count && _items[at] == item) return false;
        if (_count == _items.Length) Array.Resize(ref _items, Math.Max(16, _items.Length * 2));
        Array.Copy(_items, at, _items, at + 1, _count - at);
        _items[at] = item;
        _count++;
        return true;
    }

    /// <summary>Removes an item; false if it was absent.</summary>
    public bool Remove(in SyncItem item)
    {
        int at = LowerBound(item);
        if (at >= _count || _items[at] != item) return false;
        Array.Copy(_items, at + 1, _items, at, _count - at - 1);
        _count--;
        return true;
    }

    public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination)
    {
        int start = LowerBound(from), end = LowerBound(to);
        int n = Math.Min(Math.Max(end - start, 0), destination.Length);
        _items.AsSpan(start, n).CopyTo(destination);
        return n;
    }
}
