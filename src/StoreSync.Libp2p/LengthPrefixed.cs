using System.Buffers;
using StoreSync.Core.Wire;

namespace StoreSync.Libp2p;

/// <summary>uvarint-length-prefixed messages, the framing of identify, of every Waku request/response protocol and of store sync.</summary>
/// <remarks>
/// The body is read into a buffer that starts at <see cref="InitialBuffer"/> at most and doubles as bytes arrive, not into
/// one of the announced length: a sync frame may legitimately be tens of MiB, so a peer announcing one and sending nothing
/// would otherwise pin that memory. A message up to <see cref="InitialBuffer"/> still costs one array of its exact length.
/// </remarks>
public static class LengthPrefixed
{
    const int InitialBuffer = 64 * 1024;

    /// <summary>Reads one message. Throws <see cref="FrameTooLargeException"/> when the announced length exceeds
    /// <paramref name="maxLength"/> (before reading the body) and <see cref="EndOfStreamException"/> when the stream ends inside the message.</summary>
    /// <exception cref="ProtocolViolationException">The length prefix is malformed or longer than 9 bytes.</exception>
    public static async ValueTask<byte[]> ReadAsync(Stream stream, int maxLength, CancellationToken ct) =>
        await TryReadAsync(stream, maxLength, ct).ConfigureAwait(false)
        ?? throw new EndOfStreamException("stream ended before a length-prefixed message");

    /// <summary>Reads one message, or returns null when the stream ends cleanly before its first byte.</summary>
    /// <exception cref="FrameTooLargeException">The announced length exceeds <paramref name="maxLength"/>.</exception>
    /// <exception cref="ProtocolViolationException">The length prefix is malformed or longer than 9 bytes.</exception>
    /// <exception cref="EndOfStreamException">The stream ended inside the message.</exception>
    public static async ValueTask<byte[]?> TryReadAsync(Stream stream, int maxLength, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        var announced = await ReadLengthAsync(stream, ct).ConfigureAwait(false);
        if (announced is null) return null;
        if (announced > (ulong)maxLength) throw new FrameTooLargeException("length-prefixed message", announced.Value, maxLength);
        int length = (int)announced;
        var body = new byte[Math.Min(length, InitialBuffer)];
        int filled = 0;
        while (filled < length)
        {
            if (filled == body.Length) Array.Resize(ref body, (int)Math.Min((long)body.Length * 2, length));
            int n = await stream.ReadAsync(body.AsMemory(filled, body.Length - filled), ct).ConfigureAwait(false);
            if (n == 0) throw new EndOfStreamException($"stream ended inside a length-prefixed message of {length} bytes");
            filled += n;
        }
        return body;
    }

    /// <summary>Writes uvarint(length) ‖ message in one write.</summary>
    public static async ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> message, CancellationToken ct)
    {
        int total = WireSize(message.Length);
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

    /// <summary>Bytes a message of <paramref name="length"/> bytes takes on the wire, prefix included.</summary>
    public static int WireSize(int length) => Varint.SizeOf((ulong)length) + length;

    /// <summary>The length varint, read byte by byte so nothing after the message is consumed; null on a clean end of stream.</summary>
    /// <exception cref="ProtocolViolationException">Malformed or longer than 9 bytes.</exception>
    /// <exception cref="EndOfStreamException">The stream ended inside the prefix.</exception>
    static async ValueTask<ulong?> ReadLengthAsync(Stream stream, CancellationToken ct)
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
                    catch (FormatException e) { throw new ProtocolViolationException("malformed length prefix: " + e.Message, e); }
                }
            }
            throw new ProtocolViolationException("length prefix longer than 9 bytes");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
