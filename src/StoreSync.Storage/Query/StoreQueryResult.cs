using System.Buffers;
using System.Collections;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Core.Wire;

namespace StoreSync.Storage.Query;

/// <summary>
/// One answered Store query: rows in response order, the cursor of the next page, or the error that failed it. With data, each row's
/// stored form is copied out of RocksDB into one pooled buffer: dispose the result once its rows are used.
/// </summary>
/// <remarks>
/// The stored form is the WakuMessage's own canonical encoding (spec/storage.md, "Stored form"), so a wire encoder can copy it
/// instead of parsing and re-serialising it: no WakuMessage objects, no payload copies on the managed heap. Each copied form is checked
/// to be a well-formed protobuf first, so a damaged value fails the query here rather than reaching a peer.
/// </remarks>
public sealed class StoreQueryResult : IReadOnlyList<StoreQueryRow>, IDisposable
{
    byte[] _bytes = [];
    int _used;
    readonly List<Entry> _rows = [];
    readonly TopicDictionary _topics;

    internal StoreQueryResult(bool includeData, TopicDictionary topics)
    {
        IncludeData = includeData;
        _topics = topics;
    }

    /// <summary>Null when the query was answered.</summary>
    public StoreQueryError? Error { get; private set; }

    /// <summary>Where the next page starts (the hash of this page's last row), or null on the last page.</summary>
    public MessageHash? Cursor { get; internal set; }

    /// <summary>Whether the rows carry their stored message and pubsub topic.</summary>
    public bool IncludeData { get; }

    public int Count => _rows.Count;

    /// <summary>The row at <paramref name="index"/>; its <see cref="StoreQueryRow.Stored"/> is valid until the result is disposed.</summary>
    public StoreQueryRow this[int index]
    {
        get
        {
            var row = _rows[index];
            return new StoreQueryRow(row.Hash, row.PubsubTopic, _bytes.AsMemory(row.Offset, row.Length), row.Message);
        }
    }

    public IEnumerator<StoreQueryRow> GetEnumerator()
    {
        for (int i = 0; i < _rows.Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    readonly record struct Entry(MessageHash Hash, string? PubsubTopic, uint ContentId, int Offset, int Length, WakuMessage? Message = null);

    internal void Fail(StoreQueryError error)
    {
        _rows.Clear();
        Cursor = null;
        Error = error;
    }

    /// <summary>Adds a row; with data, <paramref name="stored"/> (the stored form) is copied and checked to be a well-formed protobuf.</summary>
    internal void Add(in MessageLocation location, string? pubsubTopic, ReadOnlySpan<byte> stored)
    {
        int offset = _used;
        if (IncludeData)
        {
            if (!IsWellFormed(stored)) throw new StoreCorruptionException($"stored message {location.Hash} does not decode: not a well-formed protobuf");
            if (_used + stored.Length > _bytes.Length)
            {
                var grown = ArrayPool<byte>.Shared.Rent(Math.Max(_bytes.Length * 2, Math.Max(_used + stored.Length, 64 * 1024)));
                _bytes.AsSpan(0, _used).CopyTo(grown);
                if (_bytes.Length > 0) ArrayPool<byte>.Shared.Return(_bytes);
                _bytes = grown;
            }
            stored.CopyTo(_bytes.AsSpan(_used));
            _used += stored.Length;
        }
        _rows.Add(new Entry(location.Hash, pubsubTopic, location.ContentId, offset, IncludeData ? stored.Length : 0));
    }

    internal void Reverse() => _rows.Reverse();

    /// <summary>Parses every row's stored form into its <see cref="StoreQueryRow.Message"/>.</summary>
    /// <exception cref="StoreCorruptionException">A stored form does not decode.</exception>
    internal void ParseMessages()
    {
        if (!IncludeData) return;
        for (int i = 0; i < _rows.Count; i++)
        {
            var row = _rows[i];
            _rows[i] = row with { Message = MessageStore.ParseStored(_bytes.AsSpan(row.Offset, row.Length), row.Hash) };
        }
    }

    /// <summary>The pubsub topic every row shares (null: none, or several) and the rows' content topics (each once), for the caller's
    /// traffic accounting; (null, empty) without data.</summary>
    public (string? PubsubTopic, IReadOnlyList<string> ContentTopics) Topics()
    {
        var contents = new List<string>();
        if (!IncludeData || _rows.Count == 0) return (null, contents);
        string? pubsub = _rows[0].PubsubTopic;
        var ids = new List<uint>();
        foreach (var row in _rows)
        {
            if (!string.Equals(row.PubsubTopic, pubsub, StringComparison.Ordinal)) pubsub = null;
            if (!ids.Contains(row.ContentId)) ids.Add(row.ContentId);
        }
        foreach (uint id in ids) contents.Add(_topics.ContentName(id));
        return (pubsub, contents);
    }

    /// <summary>True when <paramref name="bytes"/> is a sequence of protobuf fields with valid wire types that ends exactly at its end.</summary>
    internal static bool IsWellFormed(ReadOnlySpan<byte> bytes)
    {
        int at = 0;
        while (at < bytes.Length)
        {
            if (!TryReadVarint(bytes, ref at, out ulong tag) || tag >> 3 == 0) return false;
            switch (tag & 7)
            {
                case 0:
                    if (!TryReadVarint(bytes, ref at, out _)) return false;
                    break;
                case 1:
                    at += 8;
                    break;
                case 2:
                    if (!TryReadVarint(bytes, ref at, out ulong length) || length > (ulong)(bytes.Length - at)) return false;
                    at += (int)length;
                    break;
                case 5:
                    at += 4;
                    break;
                default:
                    return false;
            }
        }
        return at == bytes.Length;
    }

    static bool TryReadVarint(ReadOnlySpan<byte> bytes, ref int at, out ulong value)
    {
        if (!Varint.TryRead(bytes[at..], out value, out int length)) return false;
        at += length;
        return true;
    }

    public void Dispose()
    {
        if (_bytes.Length > 0) ArrayPool<byte>.Shared.Return(_bytes);
        _bytes = [];
    }
}
