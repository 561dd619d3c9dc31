using System.Buffers;
using StoreSync.Core;

namespace StoreSync.Storage;

/// <summary>One new message of an ingest batch: what its index keys are built from, and its place in the batch.</summary>
internal readonly record struct BatchRow(uint Pubsub, uint Content, long Timestamp, MessageHash Hash, int Index);

/// <summary>The orders in which a batch's rows go into each family's memtable: ascending key order, or close to it.</summary>
/// <remarks>
/// RocksDB inserts a batch into each memtable's skip list in batch order and starts each search from the previous insert's
/// position when the next key sorts after it. Hash keys are random, so in arrival order every insert searches the whole skip
/// list (the largest single ingest cost, spec/performance.md "Storage"); in ascending order most of each search is skipped.
/// The order only changes speed, never content (a batch is applied atomically and its keys are distinct), so the sort keys
/// are packed into one <see cref="ulong"/> and sorted as primitives: (topic group rank, timestamp rank) for the two time
/// orders, the hash's first 8 bytes for the hash order. Ties are left in any order.
/// </remarks>
internal sealed class BatchOrders : IDisposable
{
    const int RankBits = 48;
    const int MaxGroups = 1 << (64 - RankBits);

    readonly int _count;
    readonly ulong[] _keys;
    readonly int[] _timeRank;

    public int[] Order { get; }

    BatchOrders(int count)
    {
        _count = count;
        _keys = ArrayPool<ulong>.Shared.Rent(count);
        _timeRank = ArrayPool<int>.Shared.Rent(count);
        Order = ArrayPool<int>.Shared.Rent(count);
    }

    /// <summary>Ranks the rows by timestamp once; the three orders below reuse the ranks.</summary>
    public static BatchOrders For(ReadOnlySpan<BatchRow> rows)
    {
        var orders = new BatchOrders(rows.Length);
        for (int i = 0; i < rows.Length; i++) orders._keys[i] = StoreKeys.EncodeTimestamp(rows[i].Timestamp);
        orders.Sort();
        for (int r = 0; r < rows.Length; r++) orders._timeRank[orders.Order[r]] = r;
        return orders;
    }

    /// <summary>messages order: (pubsub, content) group, then time. Leaves <see cref="Order"/> as it is for more groups than the packing holds.</summary>
    public void ByTopicPairThenTime(ReadOnlySpan<BatchRow> rows)
    {
        var groups = new SortedSet<(uint, uint)>();
        foreach (ref readonly var row in rows) groups.Add((row.Pubsub, row.Content));
        if (groups.Count > MaxGroups) return;
        var rank = new Dictionary<(uint, uint), int>(groups.Count);
        foreach (var group in groups) rank[group] = rank.Count;
        for (int i = 0; i < rows.Length; i++) _keys[i] = (ulong)rank[(rows[i].Pubsub, rows[i].Content)] << RankBits | (uint)_timeRank[i];
        Sort();
    }

    /// <summary>time order: pubsub, then time.</summary>
    public void ByPubsubThenTime(ReadOnlySpan<BatchRow> rows)
    {
        var groups = new SortedSet<uint>();
        foreach (ref readonly var row in rows) groups.Add(row.Pubsub);
        if (groups.Count > MaxGroups) return;
        var rank = new Dictionary<uint, int>(groups.Count);
        foreach (uint group in groups) rank[group] = rank.Count;
        for (int i = 0; i < rows.Length; i++) _keys[i] = (ulong)rank[rows[i].Pubsub] << RankBits | (uint)_timeRank[i];
        Sort();
    }

    /// <summary>hashes order: by the first 8 bytes of the hash (the key's most significant bytes).</summary>
    public void ByHash(ReadOnlySpan<BatchRow> rows)
    {
        for (int i = 0; i < rows.Length; i++) _keys[i] = rows[i].Hash.W0;
        Sort();
    }

    void Sort()
    {
        for (int i = 0; i < _count; i++) Order[i] = i;
        Array.Sort(_keys, Order, 0, _count);
    }

    public void Dispose()
    {
        ArrayPool<ulong>.Shared.Return(_keys);
        ArrayPool<int>.Shared.Return(_timeRank);
        ArrayPool<int>.Shared.Return(Order);
    }
}
