using System.Numerics;
using System.Security.Cryptography;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Tests.Identity;

/// <summary>Compact secp256k1 signatures: a published RFC 6979 vector, cross-checks with OpenSSL, low-S, and key recovery.</summary>
public class Secp256k1SignaturesTests
{
    static readonly BigInteger Order = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);

    [Fact]
    public void Deterministic_signature_matches_the_published_rfc6979_vector()
    {
        // Private key 1, SHA-256("Satoshi Nakamoto"): the vector python-ecdsa and trezor-crypto test RFC 6979 with (low-S form).
        var key = new byte[32];
        key[31] = 1;
        var digest = SHA256.HashData("Satoshi Nakamoto"u8);
        var signature = Secp256k1Signatures.Sign(key, digest);
        Assert.Equal("934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8" + "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5", Hex.Of(signature));
        Assert.Equal("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", Hex.Of(Secp256k1Signatures.PublicKeyOf(key)));
    }

    [Fact]
    public void Signatures_verify_with_openssl_and_only_for_their_key_and_digest()
    {
        var key = Secp256k1Signatures.GeneratePrivateKey();
        var publicKey = Secp256k1Signatures.PublicKeyOf(key);
        var digest = SHA256.HashData("community control"u8);
        var signature = Secp256k1Signatures.Sign(key, digest);
        Assert.True(Secp256k1Signatures.Verify(publicKey, digest, signature));
        Assert.False(Secp256k1Signatures.Verify(Secp256k1Signatures.PublicKeyOf(Secp256k1Signatures.GeneratePrivateKey()), digest, signature));
        Assert.False(Secp256k1Signatures.Verify(publicKey, SHA256.HashData("other"u8), signature));
        var flipped = (byte[])signature.Clone();
        flipped[10] ^= 1;
        Assert.False(Secp256k1Signatures.Verify(publicKey, digest, flipped));
        Assert.False(Secp256k1Signatures.Verify(publicKey, digest, signature[..63]));
        Assert.False(Secp256k1Signatures.Verify(publicKey[..32], digest, signature));

        // An independent implementation (OpenSSL through .NET) accepts it.
        using var openssl = ECDsa.Create(new ECParameters { Curve = ECCurve.CreateFromFriendlyName("secP256k1"), Q = Uncompressed(key) });
        Assert.True(openssl.VerifyHash(digest, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void High_s_twins_are_refused()
    {
        var key = Secp256k1Signatures.GeneratePrivateKey();
        var digest = SHA256.HashData("x"u8);
        var signature = Secp256k1Signatures.Sign(key, digest);
        var s = new BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: true);
        Assert.True(s <= Order / 2);
        var twin = (byte[])signature.Clone();
        (Order - s).TryWriteBytes(twin.AsSpan(32), out _, isUnsigned: true, isBigEndian: true);
        // The twin is a valid ECDSA signature (OpenSSL accepts it) but not the one canonical encoding.
        using var openssl = ECDsa.Create(new ECParameters { Curve = ECCurve.CreateFromFriendlyName("secP256k1"), Q = Uncompressed(key) });
        Assert.True(openssl.VerifyHash(digest, twin, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.False(Secp256k1Signatures.Verify(Secp256k1Signatures.PublicKeyOf(key), digest, twin));
    }

    [Fact]
    public void Recoverable_signatures_recover_the_signer_and_nothing_else()
    {
        for (int i = 0; i < 16; i++) // both parities occur
        {
            var key = Secp256k1Signatures.GeneratePrivateKey();
            var digest = SHA256.HashData(BitConverter.GetBytes(i));
            var signature = Secp256k1Signatures.SignRecoverable(key, digest);
            Assert.Equal(Hex.Of(Secp256k1Signatures.PublicKeyOf(key)), Hex.Of(Secp256k1Signatures.RecoverSigner(digest, signature)!));
            var other = Secp256k1Signatures.RecoverSigner(SHA256.HashData("other"u8), signature);
            Assert.NotEqual(Hex.Of(Secp256k1Signatures.PublicKeyOf(key)), other is null ? "" : Hex.Of(other));
            var plain = (byte[])signature.Clone();
            plain[32] &= 0x7F;
            Assert.True(Secp256k1Signatures.Verify(Secp256k1Signatures.PublicKeyOf(key), digest, plain));
        }
        Assert.Null(Secp256k1Signatures.RecoverSigner(new byte[32], new byte[64]));
        Assert.Null(Secp256k1Signatures.RecoverSigner(new byte[32], new byte[63]));
        var allOnes = Enumerable.Repeat((byte)0xFF, 64).ToArray();
        Assert.Null(Secp256k1Signatures.RecoverSigner(new byte[32], allOnes));
    }

    [Fact]
    public void Bad_keys_are_refused_with_a_format_error()
    {
        Assert.Throws<FormatException>(() => Secp256k1Signatures.PublicKeyOf(new byte[32]));
        Assert.Throws<FormatException>(() => Secp256k1Signatures.PublicKeyOf(new byte[31]));
        Assert.False(Secp256k1Signatures.IsValidPublicKey(new byte[33]));
        // About half of all x have no point (x³ + 7 is not a square): some small x must be refused, some accepted.
        var verdicts = Enumerable.Range(1, 20).Select(x =>
        {
            var candidate = new byte[33];
            candidate[0] = 2;
            candidate[32] = (byte)x;
            return Secp256k1Signatures.IsValidPublicKey(candidate);
        }).ToList();
        Assert.Contains(false, verdicts);
        Assert.Contains(true, verdicts);
        var uncompressedPrefix = Secp256k1Signatures.PublicKeyOf(Secp256k1Signatures.GeneratePrivateKey());
        uncompressedPrefix[0] = 4;
        Assert.False(Secp256k1Signatures.IsValidPublicKey(uncompressedPrefix));
    }

    static ECPoint Uncompressed(byte[] privateKey) => Secp256k1.DecodePoint(Secp256k1Signatures.PublicKeyOf(privateKey));
}
