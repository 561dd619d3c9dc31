using System.Buffers;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p;

/// <summary>uvarint-length-prefixed messages, the framing of identify and of every Waku request/response protocol.</summary>
public static class LengthPrefixed
{
    /// <summary>Reads one message. Throws <see cref="InvalidDataException"/> when the announced length exceeds
    /// <paramref name="maxLength"/> (before allocating it) and <see cref="EndOfStreamException"/> when the stream ends inside the message.</summary>
    public static async ValueTask<byte[]> ReadAsync(Stream stream, int maxLength, CancellationToken ct) =>
        await TryReadAsync(stream, maxLength, ct).ConfigureAwait(false)
        ?? throw new EndOfStreamException("stream ended before a length-prefixed message");

    /// <summary>Reads one message, or returns null when the stream ends cleanly before its first byte.</summary>
    public static async ValueTask<byte[]?> TryReadAsync(Stream stream, int maxLength, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        var length = await ReadLengthAsync(stream, ct).ConfigureAwait(false);
        if (length is null) return null;
        if (length > (ulong)maxLength) throw new InvalidDataException($"length-prefixed message of {length} bytes exceeds the limit of {maxLength}");
        var body = new byte[(int)length];
        try { await stream.ReadExactlyAsync(body, ct).ConfigureAwait(false); }
        catch (EndOfStreamException) { throw new EndOfStreamException($"stream ended inside a length-prefixed message of {length} bytes"); }
        return body;
    }

    /// <summary>Writes uvarint(length) ‖ message in one write.</summary>
    public static async ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> message, CancellationToken ct)
    {
        int total = Varint.SizeOf((ulong)message.Length) + message.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            int at = Varint.Write(buffer, (ulong)message.Length);
            message.Span.CopyTo(buffer.AsSpan(at));
            await stream.WriteAsync(buffer.AsMemory(0, total), ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The length varint, read byte by byte so nothing after the message is consumed; null on a clean end of stream.</summary>
    /// <exception cref="InvalidDataException">Malformed or longer than 9 bytes.</exception>
    /// <exception cref="EndOfStreamException">The stream ended inside the prefix.</exception>
    public static async ValueTask<ulong?> ReadLengthAsync(Stream stream, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Varint.MaxLength);
        try
        {
            for (int i = 0; i < Varint.MaxLength; i++)
            {
                if (await stream.ReadAsync(buffer.AsMemory(i, 1), ct).ConfigureAwait(false) == 0)
                {
                    if (i == 0) return null;
                    throw new EndOfStreamException("stream ended inside a length prefix");
                }
                if (buffer[i] < 0x80)
                {
                    try { Varint.Read(buffer.AsSpan(0, i + 1), out ulong value); return value; }
                    catch (FormatException e) { throw new InvalidDataException("malformed length prefix: " + e.Message); }
                }
            }
            throw new InvalidDataException("length prefix longer than 9 bytes");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
