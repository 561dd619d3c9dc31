using StoreSync.Reconciliation;

namespace StoreSync.Storage.Retention;

/// <summary>
/// The messages of a set of (pubsub, content) pairs, oldest first in (timestamp, hash) order: a merge of one <c>messages</c>
/// index cursor per pair, each starting at its pair's frontier (below which the pair holds nothing), so a walk never steps
/// over the tombstones earlier chunks left at the old end of each pair.
/// </summary>
internal sealed class ScopeCursor : IDisposable
{
    readonly List<IndexCursor> _cursors = [];
    readonly PriorityQueue<IndexCursor, SyncItem> _heap;

    public ScopeCursor(StoreView view, IEnumerable<(uint Pubsub, uint Content)> pairs, IReadOnlyDictionary<(uint, uint), SyncItem> frontier)
    {
        _heap = new PriorityQueue<IndexCursor, SyncItem>();
        try
        {
            foreach (var pair in pairs)
            {
                var cursor = IndexCursor.ForContent(view, pair.Pubsub, pair.Content, forward: true);
                _cursors.Add(cursor);
                var from = frontier.TryGetValue(pair, out var f) ? f : SyncItem.MinValue;
                cursor.Start(from.Timestamp, long.MaxValue, (from.Timestamp, from.Hash), includeCursor: true);
                Offer(cursor);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public bool Valid => _heap.Count > 0;

    /// <summary>The oldest message left; its stored bytes are <see cref="CurrentBytes"/>.</summary>
    public MessageLocation Current => _heap.Peek().Current;

    public int CurrentBytes => _heap.Peek().CurrentValue.Length;

    public void Advance()
    {
        var cursor = _heap.Dequeue();
        cursor.Advance();
        Offer(cursor);
    }

    void Offer(IndexCursor cursor)
    {
        if (cursor.Valid) _heap.Enqueue(cursor, new SyncItem(cursor.Current.Timestamp, cursor.Current.Hash));
    }

    public void Dispose()
    {
        foreach (var cursor in _cursors) cursor.Dispose();
        _cursors.Clear();
        _heap.Clear();
    }
}
