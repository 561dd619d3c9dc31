namespace StoreSync.Storage;

/// <summary>
/// Sync item reads (<see cref="StoreSyncItems.Read"/>) on the calling thread that share one RocksDB snapshot and keep one
/// iterator per pubsub topic until disposed, instead of opening a snapshot and an iterator for every read.
/// </summary>
/// <remarks>
/// A reconciliation frame asks for thousands of range fingerprints, each reading one or two index blocks (≤ 128 items) at its
/// edges; a snapshot plus a bounded iterator per read cost more than the reads themselves (spec/performance.md, "Store sync").
/// Scope it to one synchronous piece of work (one frame): the snapshot is as old as the scope, so writes committed meanwhile
/// are not seen by its reads (<see cref="Refresh"/> moves it to the present). Thread-bound: made, used and disposed on one
/// thread, never across an await. Reads on other threads (the store observer updating an index) are not affected.
/// </remarks>
public sealed class SharedReads : IDisposable
{
    [ThreadStatic] static SharedReads? _current;

    readonly MessageStore _store;
    readonly SharedReads? _outer;
    readonly int _threadId = Environment.CurrentManagedThreadId;
    readonly Dictionary<uint, IndexCursor> _cursors = [];
    StoreView? _view;
    bool _disposed;

    internal SharedReads(MessageStore store)
    {
        _store = store;
        _outer = _current;
        _current = this;
    }

    /// <summary>The innermost open shared reads of <paramref name="store"/> on this thread, or null.</summary>
    public static SharedReads? Current(MessageStore store)
    {
        for (var s = _current; s is not null; s = s._outer)
            if (!s._disposed && ReferenceEquals(s._store, store)) return s;
        return null;
    }

    /// <summary>Snapshots opened so far (one, plus one per <see cref="Refresh"/> that was followed by a read).</summary>
    public int Snapshots { get; private set; }

    internal StoreView View
    {
        get
        {
            if (_view is null)
            {
                _view = _store.OpenView();
                Snapshots++;
            }
            return _view;
        }
    }

    /// <summary>The forward cursor over the (pubsub, time, hash) index of one pubsub topic, reused by every read of the scope.</summary>
    internal IndexCursor Cursor(uint pubsubId)
    {
        if (!_cursors.TryGetValue(pubsubId, out var cursor))
        {
            cursor = IndexCursor.ForPubsub(View, pubsubId, forward: true, reusable: true);
            _cursors[pubsubId] = cursor;
        }
        return cursor;
    }

    /// <summary>Drops the snapshot and the iterators: the next read sees the store as it is now.</summary>
    public void Refresh()
    {
        foreach (var cursor in _cursors.Values) cursor.Dispose();
        _cursors.Clear();
        _view?.Dispose();
        _view = null;
    }

    /// <exception cref="InvalidOperationException">Disposed on another thread than the one that made it.</exception>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Refresh();
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException("shared reads were disposed on another thread than the one that opened them (across an await?)");
        if (ReferenceEquals(_current, this)) _current = _outer;
    }
}
