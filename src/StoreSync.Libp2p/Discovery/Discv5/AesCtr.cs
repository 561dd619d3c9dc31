using System.Security.Cryptography;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>AES-128 in counter mode (the header masking of discv5-wire.md): the IV is a 128-bit big-endian counter.</summary>
/// <remarks>
/// .NET offers no CTR mode, so the keystream is AES-ECB over successive counter blocks. The header is at most a packet
/// long, so the counter blocks fit on the stack and nothing is allocated beyond the cipher object the caller owns.
/// </remarks>
internal static class AesCtr
{
    const int Block = 16;

    /// <summary>XORs <paramref name="input"/> with the keystream of <paramref name="aes"/> from <paramref name="iv"/>; encrypts and decrypts alike.</summary>
    public static void Transform(Aes aes, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (iv.Length != Block) throw new ArgumentException("the CTR IV is 16 bytes", nameof(iv));
        if (output.Length < input.Length) throw new ArgumentException("output is shorter than input", nameof(output));
        if (input.Length > Discv5Limits.MaxPacketSize) throw new ArgumentException("CTR input is longer than a packet", nameof(input));
        int blocks = (input.Length + Block - 1) / Block;
        Span<byte> counters = stackalloc byte[blocks * Block];
        Span<byte> counter = stackalloc byte[Block];
        iv.CopyTo(counter);
        for (int b = 0; b < blocks; b++)
        {
            counter.CopyTo(counters.Slice(b * Block, Block));
            Increment(counter);
        }
        Span<byte> keystream = stackalloc byte[blocks * Block];
        aes.EncryptEcb(counters, keystream, PaddingMode.None);
        for (int i = 0; i < input.Length; i++) output[i] = (byte)(input[i] ^ keystream[i]);
    }

    /// <summary>A cipher for one 16-byte key (the destination's masking key), ready for <see cref="Transform"/>.</summary>
    public static Aes Create(ReadOnlySpan<byte> key)
    {
        var aes = Aes.Create();
        aes.SetKey(key);
        return aes;
    }

    static void Increment(Span<byte> counter)
    {
        for (int i = Block - 1; i >= 0; i--)
            if (++counter[i] != 0) return;
    }
}
