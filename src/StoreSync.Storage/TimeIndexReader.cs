using StoreSync.Core;

namespace StoreSync.Storage;

/// <summary>One entry of the (pubsub topic, timestamp, hash) index: what range reconciliation needs of a stored message.</summary>
public readonly record struct TimeIndexEntry(uint PubsubId, long Timestamp, MessageHash Hash, uint ContentId);

/// <summary>
/// Walks the (pubsub topic, timestamp, hash) index of one pubsub topic in (timestamp, hash) order, forward or backward from a
/// bound, over one snapshot: a walk sees the store as it was when the reader was opened, whatever is written meanwhile.
/// </summary>
/// <remarks>Holds a RocksDB snapshot and iterator until disposed; the store's Dispose waits for open readers.</remarks>
public sealed class TimeIndexReader : IDisposable
{
    readonly StoreView? _view;
    readonly IndexCursor? _cursor;
    bool _started;

    internal TimeIndexReader(StoreView? view, uint pubsubId, long timestamp, in MessageHash hash, bool forward, bool inclusive)
    {
        _view = view;
        if (view is null) return; // unknown pubsub topic: an empty walk
        _cursor = IndexCursor.ForPubsub(view, pubsubId, forward);
        _cursor.Start(long.MinValue, long.MaxValue, (timestamp, hash), includeCursor: inclusive);
    }

    public TimeIndexEntry Current { get; private set; }

    /// <summary>Moves to the next entry in walking order; false at the end of the pubsub topic.</summary>
    public bool MoveNext()
    {
        if (_cursor is null) return false;
        if (_started) _cursor.Advance();
        _started = true;
        if (!_cursor.Valid) return false;
        var l = _cursor.Current;
        Current = new TimeIndexEntry(l.PubsubId, l.Timestamp, l.Hash, l.ContentId);
        return true;
    }

    public void Dispose()
    {
        _cursor?.Dispose();
        _view?.Dispose();
    }
}
