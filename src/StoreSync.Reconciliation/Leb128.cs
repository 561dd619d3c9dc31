namespace StoreSync.Reconciliation;

/// <summary>Unsigned LEB128 varints (least significant group first), as nim-stew's leb128 writes them.</summary>
public static class Leb128
{
    public const int MaxLength = 10;

    public static int Size(ulong value)
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

    /// <summary>Reads a minimal-or-not varint of at most 64 bits; false when truncated or overflowing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out ulong value, out int length)
    {
        value = 0;
        for (int i = 0; i < source.Length && i < MaxLength; i++)
        {
            byte b = source[i];
            if (i == 9 && b > 1) break;
            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80) { length = i + 1; return true; }
        }
        value = 0; length = 0;
        return false;
    }
}
