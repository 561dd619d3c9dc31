using System.Buffers;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p;

/// <summary>uvarint-length-prefixed messages, the framing of identify, ping-free request/response protocols and every Waku protocol.</summary>
public static class LengthPrefixed
{
    /// <summary>Reads one message of at most <paramref name="maxLength"/> bytes; a larger claim is refused before allocating.</summary>
    /// <exception cref="EndOfStreamException">The stream ended before or inside the message.</exception>
    /// <exception cref="InvalidDataException">The length is malformed or above the limit.</exception>
    public static async ValueTask<byte[]> ReadAsync(Stream stream, int maxLength, CancellationToken ct)
    {
        var one = new byte[1];
        ulong length = 0;
        for (int i = 0; ; i++)
        {
            if (i == Varint.MaxLength) throw new InvalidDataException("length prefix longer than 9 bytes");
            if (await stream.ReadAsync(one, ct).ConfigureAwait(false) == 0)
                throw new EndOfStreamException(i == 0 ? "stream ended before a message" : "stream ended inside a length prefix");
            length |= (ulong)(one[0] & 0x7f) << (7 * i);
            if (one[0] < 0x80) break;
        }
        if (length > (ulong)maxLength) throw new InvalidDataException($"message of {length} bytes exceeds the limit of {maxLength}");
        var body = new byte[length];
        try { await stream.ReadExactlyAsync(body, ct).ConfigureAwait(false); }
        catch (EndOfStreamException) { throw new EndOfStreamException($"stream ended inside a message of {length} bytes"); }
        return body;
    }

    /// <summary>Writes one message (prefix and body in a single write).</summary>
    public static async ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> message, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(message.Length + Varint.MaxLength);
        try
        {
            int at = Varint.Write(buffer, (ulong)message.Length);
            message.Span.CopyTo(buffer.AsSpan(at));
            await stream.WriteAsync(buffer.AsMemory(0, at + message.Length), ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
