namespace StoreSync.Core.Wire;

/// <summary>Unsigned LEB128 varints (least significant group first): multiformats unsigned-varint, protobuf and nim-stew's leb128.</summary>
/// <remarks>
/// Writing is the same for all of them. Reading differs: libp2p framing follows multiformats/unsigned-varint (minimal, at
/// most 9 bytes; <see cref="Read"/>), the sync protocols follow nim-stew (minimal or not, up to 64 bits; <see cref="TryRead"/>).
/// </remarks>
public static class Varint
{
    /// <summary>multiformats/unsigned-varint caps encodings at 9 bytes (63 bits).</summary>
    public const int MaxLength = 9;

    /// <summary>Bytes of the longest encoding of a 64-bit value, the most <see cref="Write"/> may need and <see cref="TryRead"/> accepts.</summary>
    public const int MaxUInt64Length = 10;

    /// <summary>Bytes <paramref name="value"/> takes encoded.</summary>
    public static int SizeOf(ulong value)
    {
        int n = 1;
        while (value >= 0x80) { value >>= 7; n++; }
        return n;
    }

    /// <summary>Writes the minimal encoding of <paramref name="value"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Decodes a multiformats unsigned-varint at the start of <paramref name="source"/>.</summary>
    /// <returns>Bytes consumed; 0 when the source ends before the varint does.</returns>
    /// <exception cref="FormatException">Longer than 9 bytes, or not minimally encoded.</exception>
    public static int Read(ReadOnlySpan<byte> source, out ulong value)
    {
        value = 0;
        for (int i = 0; i < source.Length; i++)
        {
            if (i == MaxLength) throw new FormatException("varint longer than 9 bytes");
            byte b = source[i];
            value |= (ulong)(b & 0x7f) << (7 * i);
            if (b < 0x80)
            {
                if (b == 0 && i > 0) throw new FormatException("varint is not minimally encoded");
                return i + 1;
            }
        }
        value = 0;
        return 0;
    }

    /// <summary>Reads a minimal-or-not varint of at most 64 bits (nim-stew's leb128); false when truncated or overflowing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out ulong value, out int length)
    {
        value = 0;
        for (int i = 0; i < source.Length && i < MaxUInt64Length; i++)
        {
            byte b = source[i];
            if (i == MaxUInt64Length - 1 && b > 1) break; // the tenth byte holds bit 63 only
            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80) { length = i + 1; return true; }
        }
        value = 0; length = 0;
        return false;
    }
}
