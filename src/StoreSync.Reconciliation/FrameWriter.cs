using System.Buffers;
using StoreSync.Core;
// FrameWriter and FrameReader name their field methods Varint; the namespace alias keeps the type apart from them.
using Wire = StoreSync.Core.Wire;

namespace StoreSync.Reconciliation;

/// <summary>Appends protocol fields to pooled segments and enforces the frame limit.</summary>
/// <remarks>
/// Segments of 64 KiB instead of one doubling buffer: a 20 MB frame then costs 20 MB once (the final array),
/// not the 16 + 32 MB of doubling copies that the shared pool would also keep.
/// </remarks>
internal struct FrameWriter(int maxBytes) : IDisposable
{
    const int SegmentSize = 1 << 16;

    List<(byte[] Buffer, int Used)>? _full;
    byte[] _current = ArrayPool<byte>.Shared.Rent(256);
    int _used, _length;

    public readonly int Length => _length;

    // Room for a field of at most SegmentSize bytes, contiguous in the current segment.
    Span<byte> Reserve(int size)
    {
        if (_length + size > maxBytes) throw new SyncProtocolException($"frame would exceed {maxBytes} bytes");
        if (_used + size > _current.Length)
        {
            if (_current.Length < SegmentSize && _full is null)
            {
                // Small frames stay in one small buffer: grow it up to a segment.
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(SegmentSize, Math.Max(_current.Length * 2, _used + size)));
                _current.AsSpan(0, _used).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_current);
                _current = bigger;
            }
            if (_used + size > _current.Length)
            {
                (_full ??= []).Add((_current, _used));
                _current = ArrayPool<byte>.Shared.Rent(Math.Max(SegmentSize, size));
                _used = 0;
            }
        }
        return _current.AsSpan(_used, size);
    }

    void Advance(int size) { _used += size; _length += size; }

    public void Byte(byte value) { Reserve(1)[0] = value; Advance(1); }

    public void Varint(ulong value) => Advance(Wire.Varint.Write(Reserve(Wire.Varint.MaxUInt64Length), value));

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            int n = Math.Min(bytes.Length, SegmentSize);
            bytes[..n].CopyTo(Reserve(n));
            Advance(n);
            bytes = bytes[n..];
        }
    }

    public void Hash(in MessageHash hash) { hash.WriteTo(Reserve(MessageHash.Length)); Advance(MessageHash.Length); }

    /// <summary>A topic list: varint count, then varint byte length + UTF-8 per topic (both protocols' header).</summary>
    public void Topics(IReadOnlyList<string> topics)
    {
        Varint((ulong)topics.Count);
        foreach (var topic in topics)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(topic);
            Varint((ulong)bytes.Length);
            Bytes(bytes);
        }
    }

    public readonly byte[] ToArray()
    {
        var result = new byte[_length];
        int at = 0;
        if (_full is not null)
            foreach (var (buffer, used) in _full) { buffer.AsSpan(0, used).CopyTo(result.AsSpan(at)); at += used; }
        _current.AsSpan(0, _used).CopyTo(result.AsSpan(at));
        return result;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_current);
        if (_full is not null)
            foreach (var (buffer, _) in _full) ArrayPool<byte>.Shared.Return(buffer);
        _current = [];
        _full = null;
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
        if (!Wire.Varint.TryRead(_frame[_at..], out ulong value, out int length))
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
