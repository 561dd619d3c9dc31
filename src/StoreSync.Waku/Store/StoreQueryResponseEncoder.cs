using System.Buffers;
using System.Text;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Wire;
using StoreSync.Storage.Query;
using StoreSync.Waku.Proto;

namespace StoreSync.Waku.Store;

/// <summary>Renders a <see cref="StoreQueryResult"/> as a Store v3 <see cref="StoreQueryResponse"/>: as an object, or straight into
/// its protobuf encoding. Both renderings give the same bytes (property-tested).</summary>
/// <remarks>
/// The encoding copies each row's stored form (the WakuMessage's canonical encoding, which is what the response's <c>message</c>
/// field carries) instead of parsing and re-serialising it. Errors get nwaku's status and description (waku_store/protocol.nim:
/// every archive error is 300 "BAD_RESPONSE: archive error: ...").
/// </remarks>
public static class StoreQueryResponseEncoder
{
    /// <summary>The status code and description nwaku gives a query answered with <paramref name="error"/> (null: answered).</summary>
    public static (uint Code, string Description) Status(StoreQueryError? error) => error switch
    {
        null => (WakuStatus.Success, WakuStatus.SuccessDescription),
        { Kind: StoreQueryErrorKind.InvalidQuery } => (WakuStatus.BadResponse, "BAD_RESPONSE: archive error: INVALID_QUERY: " + error.Cause),
        { Kind: StoreQueryErrorKind.DriverError } => (WakuStatus.BadResponse, "BAD_RESPONSE: archive error: DRIVER_ERROR: " + error.Cause),
        { Kind: StoreQueryErrorKind.Unavailable } => (WakuStatus.ServiceUnavailable, WakuStatus.ServiceUnavailableDescription),
        _ => throw new ArgumentOutOfRangeException(nameof(error), error.Kind, "unknown store query error"),
    };

    /// <summary>The response as an object; with data, the rows must carry parsed messages (<see cref="StoreQueryEngine.ExecuteWithMessages"/>).</summary>
    public static StoreQueryResponse ToResponse(string requestId, StoreQueryResult result)
    {
        var (code, description) = Status(result.Error);
        var response = new StoreQueryResponse { RequestId = requestId, StatusCode = code, StatusDesc = description };
        Span<byte> hashBytes = stackalloc byte[MessageHash.Length];
        for (int i = 0; i < result.Count; i++)
        {
            var row = result[i];
            row.Hash.WriteTo(hashBytes);
            var entry = new WakuMessageKeyValue { MessageHash = ByteString.CopyFrom(hashBytes) };
            if (result.IncludeData)
            {
                entry.Message = row.Message ?? throw new InvalidOperationException("the result's messages were not parsed");
                entry.PubsubTopic = row.PubsubTopic;
            }
            response.Messages.Add(entry);
        }
        if (result.Cursor is { } cursor)
        {
            cursor.WriteTo(hashBytes);
            response.PaginationCursor = ByteString.CopyFrom(hashBytes);
        }
        return response;
    }

    // Field tags of store/v3/store.proto and waku/message/v1: (number << 3) | wire type.
    const uint RequestIdTag = 1 << 3 | 2, StatusCodeTag = 10 << 3, StatusDescTag = 11 << 3 | 2, MessagesTag = 20 << 3 | 2, CursorTag = 51 << 3 | 2;
    const uint HashTag = 1 << 3 | 2, MessageTag = 2 << 3 | 2, PubsubTopicTag = 3 << 3 | 2;

    /// <summary>The response's protobuf encoding, field for field what <c>ToResponse(...).ToByteArray()</c> gives, in a pooled buffer.</summary>
    public static EncodedStoreResponse Encode(string requestId, StoreQueryResult result)
    {
        var (statusCode, statusDesc) = Status(result.Error);
        var (pubsub, contents) = result.Topics();
        bool includeData = result.IncludeData;
        int size = Field(RequestIdTag, Encoding.UTF8.GetByteCount(requestId)) + Varint.SizeOf(StatusCodeTag) + Varint.SizeOf(statusCode)
            + Field(StatusDescTag, Encoding.UTF8.GetByteCount(statusDesc));
        for (int i = 0; i < result.Count; i++) size += Field(MessagesTag, EntrySize(result[i], includeData));
        if (result.Cursor is not null) size += Field(CursorTag, MessageHash.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        var span = buffer.AsSpan(0, size);
        int at = 0;
        at += WriteString(span[at..], RequestIdTag, requestId);
        at += Varint.Write(span[at..], StatusCodeTag);
        at += Varint.Write(span[at..], statusCode);
        at += WriteString(span[at..], StatusDescTag, statusDesc);
        for (int i = 0; i < result.Count; i++)
        {
            var row = result[i];
            at += Varint.Write(span[at..], MessagesTag);
            at += Varint.Write(span[at..], (uint)EntrySize(row, includeData));
            at += Varint.Write(span[at..], HashTag);
            at += Varint.Write(span[at..], MessageHash.Length);
            row.Hash.WriteTo(span[at..]);
            at += MessageHash.Length;
            if (!includeData) continue;
            at += Varint.Write(span[at..], MessageTag);
            at += Varint.Write(span[at..], (uint)row.Stored.Length);
            row.Stored.Span.CopyTo(span[at..]);
            at += row.Stored.Length;
            at += WriteString(span[at..], PubsubTopicTag, row.PubsubTopic!);
        }
        if (result.Cursor is { } cursor)
        {
            at += Varint.Write(span[at..], CursorTag);
            at += Varint.Write(span[at..], MessageHash.Length);
            cursor.WriteTo(span[at..]);
            at += MessageHash.Length;
        }
        if (at != size) throw new InvalidOperationException($"encoded {at} bytes of a {size}-byte response");
        return new EncodedStoreResponse(buffer, size, statusCode, result.Count) { PubsubTopic = pubsub, ContentTopics = contents };
    }

    static int EntrySize(in StoreQueryRow row, bool includeData) => Field(HashTag, MessageHash.Length)
        + (includeData ? Field(MessageTag, row.Stored.Length) + Field(PubsubTopicTag, Encoding.UTF8.GetByteCount(row.PubsubTopic!)) : 0);

    static int Field(uint tag, int length) => Varint.SizeOf(tag) + Varint.SizeOf((uint)length) + length;

    static int WriteString(Span<byte> destination, uint tag, string value)
    {
        int n = Varint.Write(destination, tag);
        int length = Encoding.UTF8.GetByteCount(value);
        n += Varint.Write(destination[n..], (uint)length);
        return n + Encoding.UTF8.GetBytes(value, destination[n..]);
    }
}
