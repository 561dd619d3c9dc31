using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Math;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>
/// The v4 handshake's key agreement (discv5-theory.md, "Handshake Steps"): secp256k1 ECDH, then HKDF-SHA256 with the
/// WHOAREYOU challenge-data as salt and "discovery v5 key agreement" ‖ node-id-A ‖ node-id-B as info.
/// </summary>
public static class KeyAgreement
{
    static readonly Org.BouncyCastle.Asn1.X9.X9ECParameters Curve = CustomNamedCurves.GetByName("secp256k1");

    static ReadOnlySpan<byte> KdfText => "discovery v5 key agreement"u8;

    /// <summary>The 33-byte shared secret: the compressed point <c>pubkey · privkey</c>.</summary>
    /// <exception cref="FormatException">The public key is not a compressed point on the curve, or the private key is out of range.</exception>
    public static byte[] Ecdh(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> privateKey)
    {
        if (publicKey.Length != Discv5Limits.V4PublicKeyLength || (publicKey[0] != 0x02 && publicKey[0] != 0x03))
            throw new FormatException("a v4 public key is a 33-byte compressed secp256k1 point");
        if (privateKey.Length != 32) throw new FormatException("a secp256k1 private key is 32 bytes");
        Org.BouncyCastle.Math.EC.ECPoint point;
        try { point = Curve.Curve.DecodePoint(publicKey.ToArray()); }
        catch (ArgumentException e) { throw new FormatException("the public key is not a point on secp256k1", e); }
        var d = new BigInteger(1, privateKey.ToArray());
        if (d.SignValue <= 0 || d.CompareTo(Curve.N) >= 0) throw new FormatException("the private key is out of range");
        var shared = point.Multiply(d).Normalize();
        if (shared.IsInfinity) throw new FormatException("ECDH produced the point at infinity");
        return shared.GetEncoded(compressed: true);
    }

    /// <summary>initiator-key ‖ recipient-key (16 bytes each) for a handshake from <paramref name="initiatorId"/> to <paramref name="recipientId"/>.</summary>
    public static SessionKeys DeriveKeys(ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> challengeData, ReadOnlySpan<byte> initiatorId, ReadOnlySpan<byte> recipientId)
    {
        Span<byte> info = stackalloc byte[KdfText.Length + 2 * Discv5Limits.NodeIdLength];
        KdfText.CopyTo(info);
        initiatorId.CopyTo(info[KdfText.Length..]);
        recipientId.CopyTo(info[(KdfText.Length + Discv5Limits.NodeIdLength)..]);
        Span<byte> prk = stackalloc byte[32];
        HKDF.Extract(HashAlgorithmName.SHA256, sharedSecret, challengeData, prk);
        Span<byte> keyData = stackalloc byte[2 * Discv5Limits.SessionKeyLength];
        HKDF.Expand(HashAlgorithmName.SHA256, prk, keyData, info);
        return new SessionKeys(keyData[..16].ToArray(), keyData[16..].ToArray());
    }
}

/// <summary>The two AES-128-GCM keys of a session: the initiator writes with the first, the recipient with the second.</summary>
public sealed record SessionKeys(byte[] InitiatorKey, byte[] RecipientKey);
