using System.Buffers;
using Google.Protobuf;
using StoreSync.Waku.Proto;

namespace StoreSync.Waku.Store;

/// <summary>A Store v3 response in its protobuf encoding, in a pooled buffer: dispose it once written.</summary>
public sealed class EncodedStoreResponse : IDisposable
{
    byte[]? _buffer;
    readonly int _length;
    readonly bool _pooled;

    internal EncodedStoreResponse(byte[] buffer, int length, uint statusCode, int messageCount, bool pooled = true)
    {
        _buffer = buffer;
        _length = length;
        StatusCode = statusCode;
        MessageCount = messageCount;
        _pooled = pooled;
    }

    /// <summary>A response carrying only a status (the network layer's own refusals: undecodable, rate-limited, not served).</summary>
    public static EncodedStoreResponse Failure(string requestId, uint statusCode, string description)
    {
        var bytes = new StoreQueryResponse { RequestId = requestId, StatusCode = statusCode, StatusDesc = description }.ToByteArray();
        return new EncodedStoreResponse(bytes, bytes.Length, statusCode, 0, pooled: false);
    }

    public ReadOnlyMemory<byte> Bytes => (_buffer ?? throw new ObjectDisposedException(nameof(EncodedStoreResponse))).AsMemory(0, _length);

    public uint StatusCode { get; }

    public int MessageCount { get; }

    /// <summary>The pubsub topic all rows with data share, or null (no data, or rows of several pubsub topics).</summary>
    public string? PubsubTopic { get; init; }

    /// <summary>The content topics of the rows with data, each once.</summary>
    public IReadOnlyList<string> ContentTopics { get; init; } = [];

    public void Dispose()
    {
        if (_buffer is { } b && _pooled) ArrayPool<byte>.Shared.Return(b);
        _buffer = null;
    }
}
