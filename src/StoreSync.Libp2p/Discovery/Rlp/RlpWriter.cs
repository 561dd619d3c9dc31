using System.Numerics;
using System.Buffers.Binary;

namespace StoreSync.Libp2p.Discovery.Rlp;

/// <summary>
/// Writes canonical RLP into a growing buffer. Lists are opened with <see cref="BeginList"/> and closed with
/// <see cref="EndList"/>, which moves the content right when its header needs more than the one byte reserved.
/// </summary>
public sealed class RlpWriter
{
    byte[] _buffer;
    int _length;

    public RlpWriter(int capacity = 256) => _buffer = new byte[Math.Max(16, capacity)];

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => Written.ToArray();

    public void Reset() => _length = 0;

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 1 && bytes[0] < 0x80)
        {
            Grow(1)[0] = bytes[0];
            return;
        }
        WriteHeader(0x80, bytes.Length);
        bytes.CopyTo(Grow(bytes.Length));
    }

    /// <summary>An unsigned integer: big-endian, no leading zeros, zero as the empty string.</summary>
    public void WriteUInt64(ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        WriteBytes(bytes[(BitOperations.LeadingZeroCount(value) / 8)..]);
    }

    /// <summary>An item encoded elsewhere (a node record), copied as it is.</summary>
    public void WriteEncoded(ReadOnlySpan<byte> encoded) => encoded.CopyTo(Grow(encoded.Length));

    /// <summary>Opens a list; pass the result to <see cref="EndList"/> once its items are written.</summary>
    public int BeginList()
    {
        int start = _length;
        Grow(1);
        return start;
    }

    public void EndList(int start)
    {
        int contentLength = _length - start - 1;
        int headerLength = HeaderLength(contentLength);
        if (headerLength > 1)
        {
            Grow(headerLength - 1);
            _buffer.AsSpan(start + 1, contentLength).CopyTo(_buffer.AsSpan(start + headerLength));
        }
        WriteHeaderAt(start, 0xC0, contentLength);
    }

    static int HeaderLength(int contentLength) => contentLength <= 55 ? 1 : 1 + LengthOfLength(contentLength);

    static int LengthOfLength(int value) => (32 - BitOperations.LeadingZeroCount((uint)value) + 7) / 8;

    void WriteHeader(byte offset, int contentLength)
    {
        int start = _length;
        Grow(HeaderLength(contentLength));
        WriteHeaderAt(start, offset, contentLength);
    }

    void WriteHeaderAt(int at, byte offset, int contentLength)
    {
        if (contentLength <= 55)
        {
            _buffer[at] = (byte)(offset + contentLength);
            return;
        }
        int n = LengthOfLength(contentLength);
        _buffer[at] = (byte)(offset + 55 + n);
        for (int i = 0; i < n; i++) _buffer[at + 1 + i] = (byte)(contentLength >> (8 * (n - 1 - i)));
    }

    Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
