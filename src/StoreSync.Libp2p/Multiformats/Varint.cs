namespace StoreSync.Libp2p.Multiformats;

/// <summary>Unsigned LEB128 varints as multiformats (unsigned-varint) and protobuf use them: minimal, at most 9 bytes for 63 bits.</summary>
public static class Varint
{
    /// <summary>multiformats/unsigned-varint caps encodings at 9 bytes (63 bits).</summary>
    public const int MaxLength = 9;

    public static int SizeOf(ulong value)
    {
        int n = 1;
        while (value >= 0x80) { value >>= 7; n++; }
        return n;
    }

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

    /// <summary>Decodes a varint at the start of <paramref name="source"/>.</summary>
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
}
