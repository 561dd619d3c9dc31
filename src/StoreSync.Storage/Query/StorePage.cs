using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Core.Wire;

namespace StoreSync.Storage.Query;

/// <summary>
/// One answered Store v3 request: status, rows in response order and, with data, each row's stored form copied out of RocksDB
/// into one pooled buffer. Rendered either as a <see cref="StoreQueryResponse"/> object or straight into its protobuf encoding.
/// </summary>
/// <remarks>
/// The stored form is the WakuMessage's own canonical encoding (spec/storage.md, "Stored form"), which is what the response's
/// <c>message</c> field carries, so the encoding copies it instead of parsing and re-serialising it: no WakuMessage objects, no
/// payload copies on the managed heap. Both renderings give the same bytes (property-tested).
/// </remarks>
internal sealed class StorePage : IDisposable
{
    byte[] _bytes = [];
    int _used;
    readonly List<Row> _rows = [];

    public required string RequestId { get; init; }
    public uint StatusCode { get; set; }
    public string StatusDesc { get; set; } = "";
    public MessageHash? Cursor { get; set; }
    public bool IncludeData { get; init; }

    public int Count => _rows.Count;

    readonly record struct Row(MessageHash Hash, string? PubsubTopic, uint ContentId, int Offset, int Length);

    public void Fail(uint status, string description)
    {
        _rows.Clear();
        Cursor = null;
        StatusCode = status;
        StatusDesc = description;
    }

    /// <summary>Adds a row; with data, <paramref name="stored"/> (the stored form) is copied and checked to be a well-formed protobuf.</summary>
    public void Add(in MessageLocation location, string? pubsubTopic, ReadOnlySpan<byte> stored)
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
        _rows.Add(new Row(location.Hash, pubsubTopic, location.ContentId, offset, IncludeData ? stored.Length : 0));
    }

    public void Reverse() => _rows.Reverse();

    /// <summary>The pubsub topic every row shares and the rows' content topics (each once), for the caller's traffic accounting;
    /// (null, empty) without data.</summary>
    (string? Pubsub, List<string> Contents) Topics(TopicDictionary topics)
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
        foreach (uint id in ids) contents.Add(topics.ContentName(id));
        return (pubsub, contents);
    }

    public StoreQueryResponse ToResponse()
    {
        var response = new StoreQueryResponse { RequestId = RequestId, StatusCode = StatusCode, StatusDesc = StatusDesc };
        Span<byte> hashBytes = stackalloc byte[MessageHash.Length];
        foreach (var row in _rows)
        {
            row.Hash.WriteTo(hashBytes);
            var entry = new WakuMessageKeyValue { MessageHash = ByteString.CopyFrom(hashBytes) };
            if (IncludeData)
            {
                entry.Message = MessageStore.ParseStored(_bytes.AsSpan(row.Offset, row.Length), row.Hash);
                entry.PubsubTopic = row.PubsubTopic;
            }
            response.Messages.Add(entry);
        }
        if (Cursor is { } cursor)
        {
            cursor.WriteTo(hashBytes);
            response.PaginationCursor = ByteString.CopyFrom(hashBytes);
        }
        return response;
    }

    // Field tags of store/v3/store.proto and waku/message/v1: (number << 3) | wire type.
    const uint RequestIdTag = 1 << 3 | 2, StatusCodeTag = 10 << 3, StatusDescTag = 11 << 3 | 2, MessagesTag = 20 << 3 | 2, CursorTag = 51 << 3 | 2;
    const uint HashTag = 1 << 3 | 2, MessageTag = 2 << 3 | 2, PubsubTopicTag = 3 << 3 | 2;

    /// <summary>The response's protobuf encoding, field for field what <c>ToResponse().ToByteArray()</c> gives, in a pooled buffer.</summary>
    public EncodedStoreResponse Encode(TopicDictionary topics)
    {
        var (pubsub, contents) = Topics(topics);
        int size = Field(RequestIdTag, Encoding.UTF8.GetByteCount(RequestId)) + VarintSize(StatusCodeTag) + VarintSize(StatusCode)
            + Field(StatusDescTag, Encoding.UTF8.GetByteCount(StatusDesc));
        foreach (var row in _rows) size += Field(MessagesTag, EntrySize(row));
        if (Cursor is not null) size += Field(CursorTag, MessageHash.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        var span = buffer.AsSpan(0, size);
        int at = 0;
        at += WriteString(span[at..], RequestIdTag, RequestId);
        at += WriteVarint(span[at..], StatusCodeTag);
        at += WriteVarint(span[at..], StatusCode);
        at += WriteString(span[at..], StatusDescTag, StatusDesc);
        foreach (var row in _rows)
        {
            at += WriteVarint(span[at..], MessagesTag);
            at += WriteVarint(span[at..], (uint)EntrySize(row));
            at += WriteVarint(span[at..], HashTag);
            at += WriteVarint(span[at..], MessageHash.Length);
            row.Hash.WriteTo(span[at..]);
            at += MessageHash.Length;
            if (!IncludeData) continue;
            at += WriteVarint(span[at..], MessageTag);
            at += WriteVarint(span[at..], (uint)row.Length);
            _bytes.AsSpan(row.Offset, row.Length).CopyTo(span[at..]);
            at += row.Length;
            at += WriteString(span[at..], PubsubTopicTag, row.PubsubTopic!);
        }
        if (Cursor is { } cursor)
        {
            at += WriteVarint(span[at..], CursorTag);
            at += WriteVarint(span[at..], MessageHash.Length);
            cursor.WriteTo(span[at..]);
            at += MessageHash.Length;
        }
        if (at != size) throw new InvalidOperationException($"encoded {at} bytes of a {size}-byte response");
        return new EncodedStoreResponse(buffer, size, StatusCode, _rows.Count) { PubsubTopic = pubsub, ContentTopics = contents };
    }

    int EntrySize(in Row row) => Field(HashTag, MessageHash.Length)
        + (IncludeData ? Field(MessageTag, row.Length) + Field(PubsubTopicTag, Encoding.UTF8.GetByteCount(row.PubsubTopic!)) : 0);

    static int Field(uint tag, int length) => VarintSize(tag) + VarintSize((uint)length) + length;

    // Protobuf varints are unsigned LEB128.
    static int VarintSize(uint value) => Varint.SizeOf(value);

    static int WriteVarint(Span<byte> destination, uint value) => Varint.Write(destination, value);

    static int WriteString(Span<byte> destination, uint tag, string value)
    {
        int n = WriteVarint(destination, tag);
        int length = Encoding.UTF8.GetByteCount(value);
        n += WriteVarint(destination[n..], (uint)length);
        return n + Encoding.UTF8.GetBytes(value, destination[n..]);
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
