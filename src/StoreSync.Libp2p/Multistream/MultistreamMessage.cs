using System.Buffers;
using System.Text;
using StoreSync.Core.Wire;

namespace StoreSync.Libp2p.Multistream;

/// <summary>One multistream-select message: uvarint length ‖ UTF-8 text ‖ '\n' (the length counts the newline).</summary>
/// <remarks>
/// Reads take exactly the bytes of one message (the varint byte by byte, then the body), never more: whatever follows
/// the negotiation on the same stream belongs to the negotiated protocol.
/// </remarks>
internal static class MultistreamMessage
{
    /// <summary>js-libp2p's limit for a protocol line; a longer one is a framing error, not a reason to allocate.</summary>
    public const int MaxLength = 1024;

    public static int Encode(Span<byte> destination, string text)
    {
        int bodyLength = Encoding.UTF8.GetByteCount(text) + 1;
        int at = Varint.Write(destination, (ulong)bodyLength);
        at += Encoding.UTF8.GetBytes(text, destination[at..]);
        destination[at++] = (byte)'\n';
        return at;
    }

    public static int EncodedLength(string text)
    {
        int body = Encoding.UTF8.GetByteCount(text) + 1;
        return Varint.SizeOf((ulong)body) + body;
    }

    public static async ValueTask WriteAsync(Stream stream, IReadOnlyList<string> messages, CancellationToken ct)
    {
        int length = 0;
        foreach (var m in messages) length += EncodedLength(m);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            int at = 0;
            foreach (var m in messages) at += Encode(buffer.AsSpan(at), m);
            await stream.WriteAsync(buffer.AsMemory(0, at), ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads one message body (without its trailing newline as text).</summary>
    public static async ValueTask<byte[]> ReadBodyAsync(Stream stream, CancellationToken ct)
    {
        var one = new byte[1];
        ulong length = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (shift > 14) throw new MultistreamException("message length varint longer than 3 bytes");
            if (await stream.ReadAsync(one, ct).ConfigureAwait(false) == 0) throw new MultistreamException("stream ended during negotiation");
            length |= (ulong)(one[0] & 0x7f) << shift;
            if (one[0] < 0x80) break;
        }
        if (length == 0 || length > MaxLength) throw new MultistreamException($"message of {length} bytes (allowed 1..{MaxLength})");
        var body = new byte[length];
        try { await stream.ReadExactlyAsync(body, ct).ConfigureAwait(false); }
        catch (EndOfStreamException) { throw new MultistreamException("stream ended inside a negotiation message"); }
        return body;
    }

    public static async ValueTask<string> ReadLineAsync(Stream stream, CancellationToken ct)
    {
        var body = await ReadBodyAsync(stream, ct).ConfigureAwait(false);
        if (body[^1] != (byte)'\n') throw new MultistreamException("negotiation message does not end with a newline");
        try { return new UTF8Encoding(false, true).GetString(body, 0, body.Length - 1); }
        catch (DecoderFallbackException) { throw new MultistreamException("negotiation message is not UTF-8"); }
    }
}
