using System.Buffers;
using Google.Protobuf;
using StoreSync.Core.Proto;

namespace StoreSync.Storage.Query;

/// <summary>A Store v3 response in its protobuf encoding, in a pooled buffer: dispose it once written.</summary>
public sealed class EncodedStoreResponse : IDisposable
{
    byte[]? _buffer;
    readonly int length;
    readonly uint statusCode;
    readonly int messageCount;
    readonly bool _pooled;

    internal EncodedStoreResponse(byte[] buffer, int length, uint statusCode, int messageCount, bool pooled = true)
    {
        _buffer = buffer;
        this.length = length;
        this.statusCode = statusCode;
        this.messageCount = messageCount;
        _pooled = pooled;
    }

    /// <summary>The encoding of a response built as an object (the error answers of the network layer).</summary>
    public static EncodedStoreResponse Of(StoreQueryResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var bytes = response.ToByteArray();
        string? pubsub = null;
        var contents = new List<string>();
        bool shared = response.Messages.Count > 0;
        foreach (var m in response.Messages)
        {
            if (!m.HasPubsubTopic || m.Message is null) { shared = false; contents.Clear(); break; }
            pubsub ??= m.PubsubTopic;
            if (!string.Equals(pubsub, m.PubsubTopic, StringComparison.Ordinal)) shared = false;
            if (!contents.Contains(m.Message.ContentTopic, StringComparer.Ordinal)) contents.Add(m.Message.ContentTopic);
        }
        return new EncodedStoreResponse(bytes, bytes.Length, response.StatusCode, response.Messages.Count, pooled: false)
        {
            PubsubTopic = shared ? pubsub : null,
            ContentTopics = contents,
        };
    }

    public ReadOnlyMemory<byte> Bytes => (_buffer ?? throw new ObjectDisposedException(nameof(EncodedStoreResponse))).AsMemory(0, length);

    public uint StatusCode => statusCode;

    public int MessageCount => messageCount;

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
