namespace StoreSync.Libp2p.Multiformats;

/// <summary>RFC 4648 base32, lower case, no padding (multibase "base32", prefix 'b'), as used by CIDv1 peer ids.</summary>
public static class Base32
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string Encode(ReadOnlySpan<byte> data)
    {
        var chars = new char[(data.Length * 8 + 4) / 5];
        int bits = 0, buffer = 0, o = 0;
        foreach (byte b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                chars[o++] = Alphabet[(buffer >> (bits - 5)) & 31];
                bits -= 5;
            }
        }
        if (bits > 0) chars[o++] = Alphabet[(buffer << (5 - bits)) & 31];
        return new string(chars, 0, o);
    }

    /// <summary>Accepts lower or upper case; rejects padding and non-zero trailing bits so each byte string has one text form.</summary>
    /// <exception cref="FormatException">Invalid character, impossible length, or non-canonical trailing bits.</exception>
    public static byte[] Decode(ReadOnlySpan<char> text)
    {
        int rem = text.Length % 8;
        if (rem is 1 or 3 or 6) throw new FormatException($"base32 text of length {text.Length} is impossible");
        var result = new byte[text.Length * 5 / 8];
        int bits = 0, buffer = 0, o = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            int v = c switch
            {
                >= 'a' and <= 'z' => c - 'a',
                >= 'A' and <= 'Z' => c - 'A',
                >= '2' and <= '7' => c - '2' + 26,
                _ => throw new FormatException($"invalid base32 character '{c}' at position {i}"),
            };
            buffer = ((buffer << 5) | v) & 0xfff;
            bits += 5;
            if (bits >= 8)
            {
                result[o++] = (byte)(buffer >> (bits - 8));
                bits -= 8;
            }
        }
        if ((buffer & ((1 << bits) - 1)) != 0) throw new FormatException("base32 text has non-zero trailing bits");
        return result;
    }
}
