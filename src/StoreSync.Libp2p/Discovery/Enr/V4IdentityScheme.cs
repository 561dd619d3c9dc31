using Org.BouncyCastle.Crypto.Digests;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Discovery.Enr;

/// <summary>
/// EIP-778's "v4" identity scheme: the record content is signed as keccak256(content) with secp256k1, the signature is the
/// 64-byte r ‖ s (low-S, no recovery id), and the node id is keccak256 of the uncompressed public key without its prefix.
/// </summary>
public static class V4IdentityScheme
{
    public const int SignatureLength = Secp256k1Signatures.SignatureLength;
    public const int PublicKeyLength = Secp256k1Signatures.PublicKeyLength;

    /// <summary>keccak256 as the EVM defines it (the original Keccak padding, not SHA3-256).</summary>
    public static void Keccak256(ReadOnlySpan<byte> data, Span<byte> digest)
    {
        var keccak = new KeccakDigest(256);
        keccak.BlockUpdate(data);
        keccak.DoFinal(digest);
    }

    public static byte[] Sign(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> content)
    {
        Span<byte> digest = stackalloc byte[32];
        Keccak256(content, digest);
        return Secp256k1Signatures.Sign(privateKey, digest);
    }

    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> content, ReadOnlySpan<byte> signature)
    {
        Span<byte> digest = stackalloc byte[32];
        Keccak256(content, digest);
        return Secp256k1Signatures.Verify(publicKey, digest, signature);
    }

    /// <summary>keccak256(x ‖ y) of the public key.</summary>
    /// <exception cref="FormatException">Not a point on secp256k1.</exception>
    public static NodeId NodeIdOf(ReadOnlySpan<byte> publicKey)
    {
        var point = Secp256k1.DecodePoint(publicKey);
        Span<byte> xy = stackalloc byte[64];
        point.X.AsSpan().CopyTo(xy);
        point.Y.AsSpan().CopyTo(xy[32..]);
        Span<byte> digest = stackalloc byte[32];
        Keccak256(xy, digest);
        return new NodeId(digest);
    }
}
