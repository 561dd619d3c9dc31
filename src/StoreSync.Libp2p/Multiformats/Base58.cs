namespace StoreSync.Libp2p.Multiformats;

/// <summary>Base58 with the Bitcoin alphabet (multibase "base58btc"), as used for peer ids.</summary>
public static class Base58
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    /// <summary>The codec is quadratic in the input length, so callers parsing untrusted text get a hard cap.</summary>
    public const int MaxEncodedLength = 1024;

    private static readonly sbyte[] Digits = BuildDigits();

    private static sbyte[] BuildDigits()
    {
        var digits = new sbyte[128];
        Array.Fill(digits, (sbyte)-1);
        for (int i = 0; i < Alphabet.Length; i++) digits[Alphabet[i]] = (sbyte)i;
        return digits;
    }

    public static string Encode(ReadOnlySpan<byte> data)
    {
        int zeros = 0;
        while (zeros < data.Length && data[zeros] == 0) zeros++;
        // log(256)/log(58) < 1.37, so this many base-58 digits always suffice.
        int size = (data.Length - zeros) * 137 / 100 + 1;
        Span<byte> b58 = size <= 512 ? stackalloc byte[size] : new byte[size];
        b58.Clear();
        int length = 0;
        for (int i = zeros; i < data.Length; i++)
        {
            int carry = data[i];
            int j = 0;
            for (int k = size - 1; (carry != 0 || j < length) && k >= 0; k--, j++)
            {
                carry += 256 * b58[k];
                b58[k] = (byte)(carry % 58);
                carry /= 58;
            }
            length = j;
        }
        var chars = new char[zeros + length];
        chars.AsSpan(0, zeros).Fill('1');
        var digits = b58[(size - length)..];
        for (int i = 0; i < length; i++) chars[zeros + i] = Alphabet[digits[i]];
        return new string(chars);
    }

    /// <exception cref="FormatException">A character outside the alphabet, or longer than <see cref="MaxEncodedLength"/>.</exception>
    public static byte[] Decode(ReadOnlySpan<char> text)
    {
        if (text.Length > MaxEncodedLength) throw new FormatException($"base58 text longer than {MaxEncodedLength} characters");
        int zeros = 0;
        while (zeros < text.Length && text[zeros] == '1') zeros++;
        // log(58)/log(256) < 0.733.
        int size = (text.Length - zeros) * 733 / 1000 + 1;
        Span<byte> b256 = stackalloc byte[size];
        b256.Clear();
        int length = 0;
        for (int i = zeros; i < text.Length; i++)
        {
            char c = text[i];
            int carry = c < 128 ? Digits[c] : -1;
            if (carry < 0) throw new FormatException($"invalid base58 character '{c}' at position {i}");
            int j = 0;
            for (int k = size - 1; (carry != 0 || j < length) && k >= 0; k--, j++)
            {
                carry += 58 * b256[k];
                b256[k] = (byte)(carry & 0xff);
                carry >>= 8;
            }
            length = j;
        }
        var result = new byte[zeros + length];
        b256.Slice(size - length).CopyTo(result.AsSpan(zeros));
        return result;
    }
}
