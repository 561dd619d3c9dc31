using System.Buffers.Binary;
using RocksDbSharp;
using StoreSync.Core;

namespace StoreSync.Storage;

/// <summary>A read-only RocksDB snapshot of the store: every read through one view sees the same state.</summary>
internal sealed class StoreView : IDisposable
{
    readonly RocksDb _db;
    readonly Snapshot _snapshot;
    readonly ReadOptions _read;

    readonly Action _onDispose;
    bool _disposed;

    public StoreView(RocksDb db, ColumnFamilyHandle messages, ColumnFamilyHandle hashes, ColumnFamilyHandle time, TopicDictionary topics, TopicCounters counters, Action onDispose)
    {
        _onDispose = onDispose;
        _db = db;
        Messages = messages;
        Hashes = hashes;
        Time = time;
        Topics = topics;
        Counters = counters;
        _snapshot = db.CreateSnapshot();
        _read = new ReadOptions().SetSnapshot(_snapshot);
    }

    public ColumnFamilyHandle Messages { get; }
    public ColumnFamilyHandle Hashes { get; }
    public ColumnFamilyHandle Time { get; }
    public TopicDictionary Topics { get; }
    public TopicCounters Counters { get; }

    public Iterator NewIterator(ColumnFamilyHandle family) => _db.NewIterator(family, _read);

    /// <summary>An iterator confined to [lower, upper): RocksDB stops at the bounds instead of stepping over the deletion
    /// tombstones and foreign keys beyond them (which retention leaves at the old end of every prefix).</summary>
    public Iterator NewIterator(ColumnFamilyHandle family, byte[] lower, byte[]? upper)
    {
        var read = new ReadOptions().SetSnapshot(_snapshot).SetIterateLowerBound(lower);
        if (upper is not null) read.SetIterateUpperBound(upper);
        return _db.NewIterator(family, read);
    }

    public bool TryLocate(in MessageHash hash, out MessageLocation location)
    {
        Span<byte> key = stackalloc byte[MessageHash.Length];
        hash.WriteTo(key);
        var value = _db.Get(key, Hashes, _read);
        location = value is null ? default : StoreKeys.ReadHashValue(value, hash);
        return value is not null;
    }

    public byte[]? GetMessageBytes(in MessageLocation l)
    {
        Span<byte> key = stackalloc byte[StoreKeys.MessageKeyLength];
        StoreKeys.WriteMessageKey(key, l.PubsubId, l.ContentId, l.Timestamp, l.Hash);
        return _db.Get(key, Messages, _read);
    }

    /// <summary>Locations of a pubsub topic (or one of its content topics) with from ≤ timestamp ≤ to, in (timestamp, hash) order.</summary>
    /// <remarks>With <paramref name="after"/>, only locations strictly after that (timestamp, hash).</remarks>
    public IEnumerable<MessageLocation> Scan(uint pubsubId, uint? contentId, long from, long to, (long Timestamp, MessageHash Hash)? after = null)
    {
        using var source = contentId is { } c ? IndexCursor.ForContent(this, pubsubId, c, forward: true) : IndexCursor.ForPubsub(this, pubsubId, forward: true);
        source.Start(after is { } a && a.Timestamp > from ? a.Timestamp : from, to, after);
        while (source.Valid)
        {
            yield return source.Current;
            source.Advance();
        }
    }

    /// <summary>The oldest (first) or newest timestamp of a pubsub topic or one of its content topics; null when empty.</summary>
    public long? Edge(uint pubsubId, uint? contentId, bool first)
    {
        using var source = contentId is { } c ? IndexCursor.ForContent(this, pubsubId, c, first) : IndexCursor.ForPubsub(this, pubsubId, first);
        source.Start(long.MinValue, long.MaxValue, null);
        return source.Valid ? source.Current.Timestamp : null;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _snapshot.Dispose();
        _onDispose();
    }
}

/// <summary>
/// Walks one index prefix — (pubsub, content) in <c>messages</c> or (pubsub) in <c>time</c> — in (timestamp, hash) order,
/// forward or backward, between two inclusive timestamps and strictly after a cursor.
/// </summary>
internal sealed class IndexCursor : IDisposable
{
    readonly StoreView _view;
    readonly ColumnFamilyHandle _family;
    Iterator? _iterator;
    readonly bool _forward, _byContent, _reusable;
    readonly byte[] _prefix;
    long _from, _to;

    IndexCursor(StoreView view, ColumnFamilyHandle family, byte[] prefix, bool byContent, bool forward, bool reusable = false)
    {
        _view = view;
        _family = family;
        _prefix = prefix;
        _byContent = byContent;
        _forward = forward;
        _reusable = reusable;
    }

    /// <param name="reusable">As for <see cref="ForPubsub"/>.</param>
    public static IndexCursor ForContent(StoreView view, uint pubsubId, uint contentId, bool forward, bool reusable = false)
    {
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, pubsubId);
        BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(4), contentId);
        return new IndexCursor(view, view.Messages, prefix, byContent: true, forward, reusable);
    }

    /// <param name="reusable">Keep one iterator, bounded by the whole prefix, for every <see cref="Start"/> (each one a seek)
    /// instead of a new iterator bounded by each range: for many short reads in one snapshot (<see cref="SharedReads"/>).</param>
    public static IndexCursor ForPubsub(StoreView view, uint pubsubId, bool forward, bool reusable = false)
    {
        var prefix = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, pubsubId);
        return new IndexCursor(view, view.Time, prefix, byContent: false, forward, reusable);
    }

    public bool Valid { get; private set; }

    public MessageLocation Current { get; private set; }

    /// <summary>True when Current came from the messages family, so its value is the message itself.</summary>
    public bool HoldsMessage => _byContent;

    public ReadOnlySpan<byte> CurrentValue => _iterator!.GetValueSpan();

    /// <summary>
    /// Positions on the first entry in range, after <paramref name="cursor"/> in walking order when given (at it, when
    /// <paramref name="includeCursor"/> and it exists).
    /// </summary>
    public void Start(long from, long to, (long Timestamp, MessageHash Hash)? cursor, bool includeCursor = false)
    {
        _from = from;
        _to = to;
        Valid = false;
        if (from > to) return; // an empty range; RocksDB is not given inverted bounds
        Span<byte> key = stackalloc byte[StoreKeys.MessageKeyLength];
        int prefixLength = _prefix.Length;
        _prefix.CopyTo(key);
        var seekTime = _forward ? from : to;
        var seekHash = _forward ? MessageHash.Zero : MessageHash.Max;
        bool skipEqual = false;
        if (cursor is { } c && (_forward ? c.Timestamp >= from : c.Timestamp <= to))
        {
            seekTime = c.Timestamp;
            seekHash = c.Hash;
            skipEqual = !includeCursor;
        }
        BinaryPrimitives.WriteUInt64BigEndian(key[prefixLength..], StoreKeys.EncodeTimestamp(seekTime));
        seekHash.WriteTo(key[(prefixLength + 8)..]);
        var seekKey = key[..(prefixLength + 8 + MessageHash.Length)];
        if (!_reusable || _iterator is null)
        {
            _iterator?.Dispose();
            // A reusable cursor's ranges are short and start at live keys (index blocks), so the prefix bounds lose little.
            _iterator = _reusable ? _view.NewIterator(_family, _prefix, NextPrefix())
                : _view.NewIterator(_family, Bound(from), to == long.MaxValue ? NextPrefix() : Bound(to + 1));
        }
        if (_forward) _iterator.Seek(seekKey);
        else _iterator.SeekForPrev(seekKey);
        Load();
        if (skipEqual && Valid && Current.Timestamp == seekTime && Current.Hash == seekHash) Advance();
    }

    /// <summary>prefix ‖ timestamp: every key of the prefix at or after that time sorts at or after it.</summary>
    byte[] Bound(long timestamp)
    {
        var bound = new byte[_prefix.Length + 8];
        _prefix.CopyTo(bound, 0);
        BinaryPrimitives.WriteUInt64BigEndian(bound.AsSpan(_prefix.Length), StoreKeys.EncodeTimestamp(timestamp));
        return bound;
    }

    /// <summary>The first key after the whole prefix (the prefix read as a big-endian number, plus one); null if none.</summary>
    byte[]? NextPrefix()
    {
        var next = (byte[])_prefix.Clone();
        for (int i = next.Length - 1; i >= 0; i--)
            if (++next[i] != 0) return next;
        return null;
    }

    public void Advance()
    {
        if (_forward) _iterator!.Next();
        else _iterator!.Prev();
        Load();
    }

    void Load()
    {
        Valid = false;
        if (_iterator is null || !_iterator.Valid()) return;
        var key = _iterator.GetKeySpan();
        if (!key.StartsWith(_prefix)) return;
        var location = _byContent ? StoreKeys.ReadMessageKey(key) : StoreKeys.ReadTimeKey(key, _iterator.GetValueSpan());
        if (location.Timestamp < _from || location.Timestamp > _to) return;
        Current = location;
        Valid = true;
    }

    public void Dispose() => _iterator?.Dispose();
}
