using System.Buffers;
using StoreSync.Core;

namespace StoreSync.Reconciliation;

/// <summary>Appends protocol fields to a growing pooled buffer and enforces the frame limit.</summary>
internal struct FrameWriter(int maxBytes) : IDisposable
{
    byte[] _buffer = ArrayPool<byte>.Shared.Rent(256);
    int _length;

    public readonly int Length => _length;

    public readonly ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    Span<byte> Reserve(int size)
    {
        if (_length + size > maxBytes) throw new SyncProtocolException($"frame would exceed {maxBytes} bytes");
        if (_length + size > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + size));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        return _buffer.AsSpan(_length, size);
    }

    public void Byte(byte value) { Reserve(1)[0] = value; _length++; }

    public void Varint(ulong value) => _length += Leb128.Write(Reserve(Leb128.MaxLength), value);

    public void Bytes(ReadOnlySpan<byte> bytes) { bytes.CopyTo(Reserve(bytes.Length)); _length += bytes.Length; }

    public void Hash(in MessageHash hash) { hash.WriteTo(Reserve(MessageHash.Length)); _length += MessageHash.Length; }

    /// <summary>A topic list: varint count, then varint byte length + UTF-8 per topic (both protocols' header).</summary>
    public void Topics(IReadOnlyList<string> topics)
    {
        Varint((ulong)topics.Count);
        foreach (var topic in topics)
        {
            int size = System.Text.Encoding.UTF8.GetByteCount(topic);
            Varint((ulong)size);
            _length += System.Text.Encoding.UTF8.GetBytes(topic, Reserve(size));
        }
    }

    public readonly byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}

/// <summary>Reads protocol fields from a frame, failing with <see cref="SyncProtocolException"/> on truncation.</summary>
internal ref struct FrameReader(ReadOnlySpan<byte> frame)
{
    readonly ReadOnlySpan<byte> _frame = frame;
    int _at;

    public readonly int Position => _at;

    public readonly int Remaining => _frame.Length - _at;

    public ulong Varint(string what)
    {
        if (!Leb128.TryRead(_frame[_at..], out ulong value, out int length))
            throw new SyncProtocolException($"truncated or overlong varint ({what}) at byte {_at}");
        _at += length;
        return value;
    }

    /// <summary>A count that must be backed by at least <paramref name="minBytesEach"/> bytes per element still unread.</summary>
    public int Count(string what, int minBytesEach, int max)
    {
        ulong n = Varint(what);
        if (n > (ulong)max || n * (ulong)minBytesEach > (ulong)Remaining)
            throw new SyncProtocolException($"{what} {n} exceeds what the frame or the limits allow");
        return (int)n;
    }

    public byte Byte(string what)
    {
        if (_at >= _frame.Length) throw new SyncProtocolException($"truncated frame: missing {what}");
        return _frame[_at++];
    }

    public ReadOnlySpan<byte> Bytes(int count, string what)
    {
        if (count > Remaining) throw new SyncProtocolException($"truncated frame: missing {what}");
        var slice = _frame.Slice(_at, count);
        _at += count;
        return slice;
    }

    public MessageHash Hash(string what) => MessageHash.Read(Bytes(MessageHash.Length, what));

    public string[] Topics(string what)
    {
        int count = Count(what + " count", 1, 1 << 16);
        var topics = new string[count];
        for (int i = 0; i < count; i++)
            topics[i] = System.Text.Encoding.UTF8.GetString(Bytes(Count(what + " length", 1, 1 << 16), what));
        return topics;
    }
}
