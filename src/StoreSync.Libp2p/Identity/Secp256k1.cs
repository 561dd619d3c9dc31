using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X9;

namespace StoreSync.Libp2p.Identity;

/// <summary>secp256k1 helpers: .NET (OpenSSL) does the signing and verifying; BouncyCastle only does point arithmetic .NET lacks.</summary>
internal static class Secp256k1
{
    public const int PrivateKeyLength = 32;
    public const int CompressedLength = 33;

    private static readonly X9ECParameters Curve = SecNamedCurves.GetByName("secp256k1");
    private static readonly ECCurve DotNetCurve = ECCurve.CreateFromFriendlyName("secP256k1");
    private static readonly BigInteger Order = new(Curve.N.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true);
    private static readonly BigInteger HalfOrder = Order >> 1;

    /// <summary>Parses a compressed or uncompressed SEC1 point and checks that it is on the curve.</summary>
    public static ECPoint DecodePoint(ReadOnlySpan<byte> sec1)
    {
        if (sec1.Length != CompressedLength && sec1.Length != 65) throw new FormatException($"secp256k1 public key must be 33 or 65 bytes, not {sec1.Length}");
        Org.BouncyCastle.Math.EC.ECPoint point;
        try { point = Curve.Curve.DecodePoint(sec1.ToArray()).Normalize(); }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new FormatException("secp256k1 public key is not a valid point encoding on the curve", e);
        }
        if (point.IsInfinity || !point.IsValid()) throw new FormatException("secp256k1 public key is not a valid curve point");
        return new ECPoint { X = point.AffineXCoord.GetEncoded(), Y = point.AffineYCoord.GetEncoded() };
    }

    public static byte[] Compress(ECPoint q)
    {
        var result = new byte[CompressedLength];
        result[0] = (byte)((q.Y![^1] & 1) == 0 ? 0x02 : 0x03);
        q.X!.CopyTo(result, 1);
        return result;
    }

    public static ECPoint PublicPointOf(ReadOnlySpan<byte> privateKey)
    {
        var d = new Org.BouncyCastle.Math.BigInteger(1, privateKey.ToArray());
        if (d.SignValue <= 0 || d.CompareTo(Curve.N) >= 0) throw new FormatException("secp256k1 private key is out of range");
        var point = Curve.G.Multiply(d).Normalize();
        return new ECPoint { X = point.AffineXCoord.GetEncoded(), Y = point.AffineYCoord.GetEncoded() };
    }

    public static ECDsa CreateSigner(byte[] privateKey, ECPoint q) =>
        ECDsa.Create(new ECParameters { Curve = DotNetCurve, D = privateKey, Q = q });

    public static bool Verify(ReadOnlySpan<byte> sec1PublicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> derSignature)
    {
        using var ecdsa = ECDsa.Create(new ECParameters { Curve = DotNetCurve, Q = DecodePoint(sec1PublicKey) });
        // OpenSSL accepts high-S signatures, which libp2p requires us to accept.
        return ecdsa.VerifyData(data, derSignature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>ECDSA over SHA-256, DER-encoded, with S normalised to the lower half of the order as other stacks expect.</summary>
    public static byte[] Sign(ECDsa signer, ReadOnlySpan<byte> data)
    {
        Span<byte> rs = stackalloc byte[64];
        if (!signer.TrySignData(data, rs, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation, out int written) || written != 64)
            throw new CryptographicException("secp256k1 signing produced an unexpected signature size");
        var s = new BigInteger(rs[32..], isUnsigned: true, isBigEndian: true);
        if (s > HalfOrder) s = Order - s;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(new BigInteger(rs[..32], isUnsigned: true, isBigEndian: true));
            writer.WriteInteger(s);
        }
        return writer.Encode();
    }
}
