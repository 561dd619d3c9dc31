using StoreSync.Core.Wire;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Waku.Sync;

/// <summary>uvarint-length-prefixed frames of the sync protocols, read so that memory follows the bytes that really arrive.</summary>
/// <remarks>
/// <see cref="LengthPrefixed"/> allocates the announced length at once; a sync frame may legitimately be tens of MiB, so a peer
/// announcing one and sending nothing would pin that memory. Here the buffer starts small and doubles as data comes in.
/// </remarks>
public static class SyncFrame
{
    const int InitialBuffer = 64 * 1024;

    /// <summary>Reads one frame, or null when the stream ends cleanly before it.</summary>
    /// <exception cref="InvalidDataException">The length prefix is malformed or above <paramref name="maxBytes"/>.</exception>
    /// <exception cref="EndOfStreamException">The stream ended inside the frame.</exception>
    public static async ValueTask<byte[]?> ReadAsync(Stream stream, int maxBytes, CancellationToken ct)
    {
        ulong? announced = await LengthPrefixed.ReadLengthAsync(stream, ct).ConfigureAwait(false);
        if (announced is null) return null;
        if (announced > (ulong)maxBytes) throw new InvalidDataException($"frame of {announced} bytes exceeds the limit of {maxBytes}");
        int length = (int)announced;
        var buffer = new byte[Math.Min(length, InitialBuffer)];
        int filled = 0;
        while (filled < length)
        {
            if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, length));
            int n = await stream.ReadAsync(buffer.AsMemory(filled, buffer.Length - filled), ct).ConfigureAwait(false);
            if (n == 0) throw new EndOfStreamException($"stream ended after {filled} of {length} frame bytes");
            filled += n;
        }
        return buffer;
    }

    /// <summary>Writes uvarint(length) ‖ frame.</summary>
    public static ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> frame, CancellationToken ct) => LengthPrefixed.WriteAsync(stream, frame, ct);

    /// <summary>Bytes a frame of <paramref name="length"/> bytes takes on the wire.</summary>
    public static int WireSize(int length) => Varint.SizeOf((ulong)length) + length;
}
