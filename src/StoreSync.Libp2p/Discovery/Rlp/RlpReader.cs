namespace StoreSync.Libp2p.Discovery.Rlp;

/// <summary>
/// Reads canonical RLP (Ethereum yellow paper, appendix B) from a span: byte strings, unsigned integers and lists, one item
/// after the other. Every length is checked against what is left before anything is read, and non-canonical encodings
/// (a single byte below 0x80 in a string header, a long form for a short length, leading zeros) are refused, so an item has
/// exactly one encoding and a signed record cannot be re-encoded to different bytes.
/// </summary>
public ref struct RlpReader
{
    ReadOnlySpan<byte> _rest;

    public RlpReader(ReadOnlySpan<byte> encoded) => _rest = encoded;

    /// <summary>Whether another item follows.</summary>
    public readonly bool HasMore => !_rest.IsEmpty;

    /// <summary>What is left unread.</summary>
    public readonly ReadOnlySpan<byte> Remaining => _rest;

    /// <summary>Whether the next item is a list.</summary>
    public readonly bool NextIsList => !_rest.IsEmpty && _rest[0] >= 0xC0;

    /// <summary>The next item's content if it is a byte string.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var (isList, headerLength, contentLength) = Header(_rest);
        if (isList) throw new RlpException("expected an RLP byte string, found a list");
        var content = _rest.Slice(headerLength, contentLength);
        _rest = _rest[(headerLength + contentLength)..];
        return content;
    }

    /// <summary>The next item as an unsigned integer of at most 8 bytes, big-endian without leading zeros.</summary>
    public ulong ReadUInt64()
    {
        var bytes = ReadBytes();
        if (bytes.Length > 8) throw new RlpException($"an RLP integer of {bytes.Length} bytes does not fit in 64 bits");
        if (bytes.Length > 0 && bytes[0] == 0) throw new RlpException("an RLP integer has a leading zero byte");
        ulong value = 0;
        foreach (byte b in bytes) value = (value << 8) | b;
        return value;
    }

    /// <summary>A reader over the next item's elements if it is a list.</summary>
    public RlpReader ReadList()
    {
        var (isList, headerLength, contentLength) = Header(_rest);
        if (!isList) throw new RlpException("expected an RLP list, found a byte string");
        var content = _rest.Slice(headerLength, contentLength);
        _rest = _rest[(headerLength + contentLength)..];
        return new RlpReader(content);
    }

    /// <summary>The next item's whole encoding, header included (an embedded record kept as received).</summary>
    public ReadOnlySpan<byte> ReadEncoded()
    {
        var (_, headerLength, contentLength) = Header(_rest);
        var encoded = _rest[..(headerLength + contentLength)];
        _rest = _rest[encoded.Length..];
        return encoded;
    }

    /// <summary>Refuses trailing bytes after the items a caller expected.</summary>
    public readonly void EnsureEnd()
    {
        if (!_rest.IsEmpty) throw new RlpException($"{_rest.Length} unexpected bytes after the RLP items");
    }

    /// <summary>The total length of the single item at the start of <paramref name="encoded"/>.</summary>
    public static int ItemLength(ReadOnlySpan<byte> encoded)
    {
        var (_, headerLength, contentLength) = Header(encoded);
        return headerLength + contentLength;
    }

    static (bool IsList, int HeaderLength, int ContentLength) Header(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) throw new RlpException("RLP item expected, input ended");
        byte b = data[0];
        if (b < 0x80) return (false, 0, 1);
        if (b <= 0xB7)
        {
            int length = b - 0x80;
            Fits(data, 1, length);
            if (length == 1 && data[1] < 0x80) throw new RlpException("a single byte below 0x80 must be its own RLP encoding");
            return (false, 1, length);
        }
        if (b < 0xC0) return LongForm(data, b - 0xB7, isList: false);
        if (b <= 0xF7)
        {
            int length = b - 0xC0;
            Fits(data, 1, length);
            return (true, 1, length);
        }
        return LongForm(data, b - 0xF7, isList: true);
    }

    static (bool, int, int) LongForm(ReadOnlySpan<byte> data, int lengthOfLength, bool isList)
    {
        if (data.Length < 1 + lengthOfLength) throw new RlpException("RLP length runs past the input");
        var lengthBytes = data.Slice(1, lengthOfLength);
        if (lengthBytes[0] == 0) throw new RlpException("an RLP length has a leading zero byte");
        if (lengthOfLength > 4) throw new RlpException("an RLP item longer than 4 GiB");
        uint length = 0;
        foreach (byte x in lengthBytes) length = (length << 8) | x;
        if (length <= 55) throw new RlpException("an RLP length below 56 must use the short form");
        if (length > int.MaxValue) throw new RlpException("an RLP item longer than 2 GiB");
        Fits(data, 1 + lengthOfLength, (int)length);
        return (isList, 1 + lengthOfLength, (int)length);
    }

    static void Fits(ReadOnlySpan<byte> data, int headerLength, int contentLength)
    {
        if ((long)headerLength + contentLength > data.Length)
            throw new RlpException($"RLP item of {contentLength} bytes runs past the input ({data.Length - headerLength} left)");
    }
}
