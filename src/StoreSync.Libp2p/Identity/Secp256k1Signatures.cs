using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math.EC;
using BigInteger = Org.BouncyCastle.Math.BigInteger;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace StoreSync.Libp2p.Identity;

/// <summary>
/// secp256k1 ECDSA over a 32-byte digest with compact 64-byte signatures: plain <c>r ‖ s</c>, or the recoverable
/// EIP-2098 form <c>r ‖ (yParity·2^255 + s)</c> from which the signer's public key is recovered.
/// </summary>
/// <remarks>
/// Signing is deterministic (RFC 6979, HMAC-SHA-256), so a signature over the same digest with the same key is always the
/// same bytes (the specs' worked examples are reproducible). Signatures are always low-S (s ≤ n/2) and verification
/// refuses high-S ones: a signed message has exactly one valid encoding, so nobody can make a second, different-hash copy
/// of it. The libp2p identity keys (<see cref="Secp256k1IdentityKey"/>) keep their DER signatures; this is for
/// application-level signatures whose bytes must be fixed-size.
/// </remarks>
public static class Secp256k1Signatures
{
    public const int PrivateKeyLength = Secp256k1.PrivateKeyLength;
    public const int PublicKeyLength = Secp256k1.CompressedLength;
    public const int SignatureLength = 64;
    public const int DigestLength = 32;

    // The custom curve (GLV endomorphism, specialised field arithmetic) is several times faster than the generic one.
    static readonly Org.BouncyCastle.Asn1.X9.X9ECParameters Curve = CustomNamedCurves.GetByName("secp256k1");
    static readonly ECDomainParameters Domain = new(Curve.Curve, Curve.G, Curve.N, Curve.H);
    static readonly BigInteger HalfOrder = Curve.N.ShiftRight(1);

    /// <summary>A fresh random private key (32 bytes, in [1, n-1]).</summary>
    public static byte[] GeneratePrivateKey()
    {
        Span<byte> candidate = stackalloc byte[PrivateKeyLength];
        while (true)
        {
            RandomNumberGenerator.Fill(candidate);
            var d = new BigInteger(1, candidate);
            if (d.SignValue > 0 && d.CompareTo(Curve.N) < 0) return candidate.ToArray();
        }
    }

    /// <summary>The 33-byte compressed public key of <paramref name="privateKey"/>.</summary>
    /// <exception cref="FormatException">Not 32 bytes, or outside [1, n-1].</exception>
    public static byte[] PublicKeyOf(ReadOnlySpan<byte> privateKey) => Curve.G.Multiply(PrivateScalar(privateKey)).Normalize().GetEncoded(compressed: true);

    /// <summary>Whether <paramref name="publicKey"/> is a 33-byte compressed encoding of a point on the curve.</summary>
    public static bool IsValidPublicKey(ReadOnlySpan<byte> publicKey) => TryDecodePoint(publicKey, out _);

    /// <summary>Signs a 32-byte digest: 64 bytes <c>r ‖ s</c>, big-endian, low-S.</summary>
    public static byte[] Sign(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> digest)
    {
        var (r, s) = SignLowS(privateKey, digest);
        var signature = new byte[SignatureLength];
        WriteScalar(r, signature.AsSpan(0, 32));
        WriteScalar(s, signature.AsSpan(32, 32));
        return signature;
    }

    /// <summary>Verifies a 64-byte <c>r ‖ s</c> signature; a high-S or out-of-range one is refused.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
    {
        if (digest.Length != DigestLength || signature.Length != SignatureLength) return false;
        if (!TryDecodePoint(publicKey, out var q)) return false;
        var r = new BigInteger(1, signature[..32]);
        var s = new BigInteger(1, signature[32..]);
        if (!InRange(r) || !InRange(s) || s.CompareTo(HalfOrder) > 0) return false;
        var verifier = new ECDsaSigner();
        verifier.Init(false, new ECPublicKeyParameters(q, Domain));
        return verifier.VerifySignature(digest.ToArray(), r, s);
    }

    /// <summary>Signs a 32-byte digest in the recoverable EIP-2098 form: <c>r ‖ (yParity·2^255 + s)</c>, 64 bytes, low-S.</summary>
    public static byte[] SignRecoverable(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> digest)
    {
        var (r, s) = SignLowS(privateKey, digest);
        var own = PublicKeyOf(privateKey);
        var signature = new byte[SignatureLength];
        WriteScalar(r, signature.AsSpan(0, 32));
        WriteScalar(s, signature.AsSpan(32, 32));
        // The signer does not expose R; of the two candidate parities exactly one recovers our own key.
        if (Recover(digest, r, s, yParity: 0) is not { } candidate || !candidate.AsSpan().SequenceEqual(own))
            signature[32] |= 0x80;
        return signature;
    }

    /// <summary>The compressed public key that made an EIP-2098 signature over <paramref name="digest"/>, or null if it is malformed.</summary>
    /// <remarks>
    /// Any well-formed signature recovers to some key; the caller decides whether that key is authorised. Costs one double
    /// scalar multiplication (about one verification).
    /// </remarks>
    public static byte[]? RecoverSigner(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
    {
        if (digest.Length != DigestLength || signature.Length != SignatureLength) return null;
        int parity = signature[32] >> 7;
        Span<byte> sBytes = stackalloc byte[32];
        signature[32..].CopyTo(sBytes);
        sBytes[0] &= 0x7F;
        var r = new BigInteger(1, signature[..32]);
        var s = new BigInteger(1, sBytes);
        if (!InRange(r) || !InRange(s) || s.CompareTo(HalfOrder) > 0) return null;
        return Recover(digest, r, s, parity);
    }

    static (BigInteger R, BigInteger S) SignLowS(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> digest)
    {
        if (digest.Length != DigestLength) throw new ArgumentException($"the digest must be {DigestLength} bytes, not {digest.Length}", nameof(digest));
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, new ECPrivateKeyParameters(PrivateScalar(privateKey), Domain));
        var rs = signer.GenerateSignature(digest.ToArray());
        var s = rs[1].CompareTo(HalfOrder) > 0 ? Curve.N.Subtract(rs[1]) : rs[1];
        return (rs[0], s);
    }

    /// <summary>Q = r⁻¹(sR − eG) with R the point of x-coordinate r and the given y parity (SEC 1 §4.1.6, j = 0 only).</summary>
    /// <remarks>The case x = r + n (probability about 2⁻¹²⁸) is not handled: such a signature does not recover.</remarks>
    static byte[]? Recover(ReadOnlySpan<byte> digest, BigInteger r, BigInteger s, int yParity)
    {
        Span<byte> encoded = stackalloc byte[PublicKeyLength];
        encoded[0] = (byte)(0x02 | yParity);
        WriteScalar(r, encoded[1..]);
        if (!TryDecodePoint(encoded, out var bigR)) return null;
        var e = new BigInteger(1, digest);
        var rInverse = r.ModInverse(Curve.N);
        var u1 = Curve.N.Subtract(e).Multiply(rInverse).Mod(Curve.N);
        var u2 = s.Multiply(rInverse).Mod(Curve.N);
        var q = ECAlgorithms.SumOfTwoMultiplies(Curve.G, u1, bigR, u2).Normalize();
        return q.IsInfinity ? null : q.GetEncoded(compressed: true);
    }

    static BigInteger PrivateScalar(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != PrivateKeyLength) throw new FormatException($"a secp256k1 private key is {PrivateKeyLength} bytes, not {privateKey.Length}");
        var d = new BigInteger(1, privateKey);
        if (!InRange(d)) throw new FormatException("secp256k1 private key is out of range");
        return d;
    }

    static bool InRange(BigInteger v) => v.SignValue > 0 && v.CompareTo(Curve.N) < 0;

    static bool TryDecodePoint(ReadOnlySpan<byte> compressed, out ECPoint point)
    {
        point = null!;
        if (compressed.Length != PublicKeyLength || (compressed[0] != 0x02 && compressed[0] != 0x03)) return false;
        try
        {
            point = Curve.Curve.DecodePoint(compressed.ToArray()).Normalize();
        }
        catch (ArgumentException)
        {
            // x is not below p, or no point has that x (BouncyCastle signals both as ArgumentException).
            return false;
        }
        return !point.IsInfinity && point.IsValid();
    }

    static void WriteScalar(BigInteger value, Span<byte> destination)
    {
        var bytes = value.ToByteArrayUnsigned();
        destination.Clear();
        bytes.CopyTo(destination[(destination.Length - bytes.Length)..]);
    }
}
