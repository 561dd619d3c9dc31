using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace StoreSync.Libp2p.Identity;

/// <summary>An Ed25519 identity key (RFC 8032; the private key is the 32-byte seed).</summary>
internal sealed class Ed25519IdentityKey : IdentityKey
{
    private readonly byte[] _seed;

    private Ed25519IdentityKey(byte[] seed, byte[] publicKey) : base(new PublicKey(KeyType.Ed25519, publicKey)) => _seed = seed;

    public override KeyType Type => KeyType.Ed25519;

    public static Ed25519IdentityKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != Ed25519.SecretKeySize) throw new FormatException($"Ed25519 seed must be 32 bytes, not {seed.Length}");
        var s = seed.ToArray();
        var pk = new byte[Ed25519.PublicKeySize];
        Ed25519.GeneratePublicKey(s, 0, pk, 0);
        return new Ed25519IdentityKey(s, pk);
    }

    public static Ed25519IdentityKey Generate() => FromSeed(RandomNumberGenerator.GetBytes(Ed25519.SecretKeySize));

    /// <summary>
    /// Accepts seed ‖ public key (what libp2p writes), a bare seed, or the 96-byte form old go-libp2p wrote
    /// (public key repeated); every stored public key must match the seed.
    /// </summary>
    public static Ed25519IdentityKey FromPrivateData(byte[] data)
    {
        if (data.Length == Ed25519.SecretKeySize) return FromSeed(data);
        int pair = Ed25519.SecretKeySize + Ed25519.PublicKeySize;
        if (data.Length != pair && data.Length != pair + Ed25519.PublicKeySize)
            throw new FormatException($"Ed25519 private key must be 64 bytes (seed and public key), not {data.Length}");
        var key = FromSeed(data.AsSpan(0, Ed25519.SecretKeySize));
        for (int o = Ed25519.SecretKeySize; o < data.Length; o += Ed25519.PublicKeySize)
        {
            if (!key.PublicKey.Raw.Span.SequenceEqual(data.AsSpan(o, Ed25519.PublicKeySize)))
                throw new FormatException("Ed25519 private key: the stored public key does not belong to the seed");
        }
        return key;
    }

    public override byte[] Sign(ReadOnlySpan<byte> data)
    {
        var signature = new byte[Ed25519.SignatureSize];
        Ed25519.Sign(_seed, 0, data.ToArray(), 0, data.Length, signature, 0);
        return signature;
    }

    public override byte[] ToPrivateKeyProtobuf()
    {
        var data = new byte[Ed25519.SecretKeySize + Ed25519.PublicKeySize];
        _seed.CopyTo(data, 0);
        PublicKey.Raw.Span.CopyTo(data.AsSpan(Ed25519.SecretKeySize));
        return KeyProtobuf.Encode(KeyType.Ed25519, data);
    }
}
