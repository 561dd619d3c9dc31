using StoreSync.Core.Wire;

namespace StoreSync.Libp2p.Multiformats;

/// <summary>A multihash: uvarint code, uvarint digest length, digest. Only the codes peer ids use are named.</summary>
public static class Multihash
{
    public const ulong Identity = 0x00;
    public const ulong Sha2_256 = 0x12;

    /// <summary>Bounds what a hostile length can make us accept; no libp2p digest comes close.</summary>
    public const int MaxDigestLength = 1024;

    public static byte[] Encode(ulong code, ReadOnlySpan<byte> digest)
    {
        var result = new byte[Varint.SizeOf(code) + Varint.SizeOf((ulong)digest.Length) + digest.Length];
        int o = Varint.Write(result, code);
        o += Varint.Write(result.AsSpan(o), (ulong)digest.Length);
        digest.CopyTo(result.AsSpan(o));
        return result;
    }

    /// <summary>Splits a multihash that must fill <paramref name="bytes"/> exactly.</summary>
    /// <exception cref="FormatException">Truncated, trailing bytes, or a digest length over <see cref="MaxDigestLength"/>.</exception>
    public static (ulong Code, ReadOnlyMemory<byte> Digest) Decode(ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        int n = Varint.Read(span, out ulong code);
        if (n == 0) throw new FormatException("multihash truncated in its code");
        int m = Varint.Read(span[n..], out ulong length);
        if (m == 0) throw new FormatException("multihash truncated in its length");
        if (length > MaxDigestLength) throw new FormatException($"multihash digest length {length} exceeds {MaxDigestLength}");
        int start = n + m;
        if ((ulong)(span.Length - start) != length)
            throw new FormatException($"multihash digest length {length} does not match the {span.Length - start} bytes present");
        return (code, bytes[start..]);
    }
}
