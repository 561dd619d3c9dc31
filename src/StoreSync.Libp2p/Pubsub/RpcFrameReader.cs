using System.Buffers;
using Google.Protobuf;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Pubsub.Pb;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>
/// Reads the uvarint-length-prefixed RPC frames of one inbound pubsub stream (pubsub/README.md "The RPC"), bounded by
/// the router's maximum RPC size.
/// </summary>
/// <remarks>
/// Unlike <see cref="LengthPrefixed"/>, which reads a prefix byte by byte so nothing after its one message is consumed,
/// a pubsub stream carries nothing but frames for its whole life, so this reader takes the socket's bytes in large
/// pieces into one pooled buffer and cuts frames out of it: one read call per batch of frames, not three per frame.
/// The buffer starts small and grows only as far as a frame actually sent needs, never past the limit.
/// </remarks>
internal sealed class RpcFrameReader : IDisposable
{
    const int InitialBuffer = 64 * 1024;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2213", Justification = "the stream belongs to the stream handler")]
    readonly Stream _stream;
    readonly int _maxFrame;
    byte[] _buffer;
    int _start;
    int _end;

    public RpcFrameReader(Stream stream, int maxFrame)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrame);
        _stream = stream;
        _maxFrame = maxFrame;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialBuffer, maxFrame + Varint.MaxLength));
    }

    /// <summary>The next frame's bytes (valid until the next call), or null when the stream ends cleanly between frames.</summary>
    /// <exception cref="FrameTooLargeException">The announced length exceeds the limit; nothing of the body is read.</exception>
    /// <exception cref="ProtocolViolationException">A malformed length prefix.</exception>
    /// <exception cref="EndOfStreamException">The stream ended inside a frame.</exception>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadAsync(CancellationToken ct)
    {
        while (true)
        {
            if (TryCut(out var frame)) return frame;
            if (!await FillAsync(ct).ConfigureAwait(false))
            {
                if (_end == _start) return null;
                throw new EndOfStreamException($"pubsub stream ended inside an RPC frame ({_end - _start} bytes buffered)");
            }
        }
    }

    /// <summary>Decodes one RPC frame.</summary>
    /// <exception cref="ProtocolViolationException">The frame is not an RPC protobuf.</exception>
    public static RPC Decode(ReadOnlySpan<byte> frame)
    {
        try
        {
            return RPC.Parser.ParseFrom(frame);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ProtocolViolationException("malformed pubsub RPC: " + e.Message, e);
        }
    }

    bool TryCut(out ReadOnlyMemory<byte> frame)
    {
        frame = default;
        var available = _buffer.AsSpan(_start, _end - _start);
        if (available.IsEmpty) return false;
        if (!Varint.TryRead(available, out ulong length, out int prefix))
        {
            // Either incomplete or malformed: a complete 9-byte prefix that does not parse is malformed.
            if (available.Length >= Varint.MaxLength) throw new ProtocolViolationException("malformed RPC length prefix");
            return false;
        }
        if (prefix > Varint.MaxLength) throw new ProtocolViolationException("RPC length prefix longer than 9 bytes");
        if (length > (ulong)_maxFrame) throw new FrameTooLargeException("pubsub RPC", length, _maxFrame);
        if (available.Length - prefix < (int)length)
        {
            EnsureRoom(prefix + (int)length);
            return false;
        }
        frame = _buffer.AsMemory(_start + prefix, (int)length);
        _start += prefix + (int)length;
        if (_start == _end) _start = _end = 0;
        return true;
    }

    /// <summary>Makes the buffer able to hold <paramref name="needed"/> bytes from <c>_start</c>.</summary>
    void EnsureRoom(int needed)
    {
        if (_buffer.Length - _start >= needed) return;
        if (_buffer.Length >= needed)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
        }
        else
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Min(_buffer.Length * 2, _maxFrame + Varint.MaxLength)));
            Buffer.BlockCopy(_buffer, _start, bigger, 0, _end - _start);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        _end -= _start;
        _start = 0;
    }

    async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        if (_end == _buffer.Length) EnsureRoom(_end - _start + 1);
        int n = await _stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
        if (n == 0) return false;
        _end += n;
        return true;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
