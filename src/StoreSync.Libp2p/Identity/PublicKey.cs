using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace StoreSync.Libp2p.Identity;

/// <summary>A libp2p public key of any of the four spec key types, able to verify that key type's signatures.</summary>
public sealed class PublicKey : IEquatable<PublicKey>
{
    /// <summary>The spec requires rejecting RSA keys under 2048 bits; the upper bound keeps verification cheap.</summary>
    public const int MinRsaBits = 2048, MaxRsaBits = 8192;

    private readonly byte[] _raw;
    private readonly byte[] _protobuf;

    public KeyType Type { get; }

    /// <summary>The key bytes as in the protobuf Data field: 32 bytes (Ed25519), 33-byte compressed SEC1 (secp256k1), DER SubjectPublicKeyInfo (RSA, ECDSA).</summary>
    public ReadOnlyMemory<byte> Raw => _raw;

    /// <summary>The deterministic protobuf encoding without copying; peer ids are derived from it.</summary>
    internal ReadOnlyMemory<byte> Protobuf => _protobuf;

    public PublicKey(KeyType type, ReadOnlySpan<byte> raw)
    {
        Validate(type, raw);
        Type = type;
        _raw = raw.ToArray();
        _protobuf = KeyProtobuf.Encode(type, raw);
    }

    public byte[] ToProtobuf() => (byte[])_protobuf.Clone();

    /// <exception cref="FormatException">Not a well-formed PublicKey protobuf, or a key that is invalid for its type.</exception>
    public static PublicKey FromProtobuf(ReadOnlySpan<byte> bytes)
    {
        var (type, data) = KeyProtobuf.Decode(bytes);
        return new PublicKey(type, data);
    }

    /// <summary>Checks a signature in the format libp2p defines for this key type; malformed signatures verify as false.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        try
        {
            switch (Type)
            {
                case KeyType.Ed25519:
                    return signature.Length == Ed25519.SignatureSize
                        && Ed25519.Verify(signature.ToArray(), 0, _raw, 0, data.ToArray(), 0, data.Length);
                case KeyType.Secp256k1:
                    return Secp256k1.Verify(_raw, data, signature);
                case KeyType.Ecdsa:
                    using (var ecdsa = ECDsa.Create())
                    {
                        ecdsa.ImportSubjectPublicKeyInfo(_raw, out _);
                        return ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                    }
                case KeyType.Rsa:
                    using (var rsa = RSA.Create())
                    {
                        rsa.ImportSubjectPublicKeyInfo(_raw, out _);
                        return rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                    }
                default:
                    return false;
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static void Validate(KeyType type, ReadOnlySpan<byte> raw)
    {
        switch (type)
        {
            case KeyType.Ed25519:
                if (raw.Length != Ed25519.PublicKeySize) throw new FormatException($"Ed25519 public key must be 32 bytes, not {raw.Length}");
                break;
            case KeyType.Secp256k1:
                Secp256k1.DecodePoint(raw);
                break;
            case KeyType.Ecdsa:
                try
                {
                    using var ecdsa = ECDsa.Create();
                    ecdsa.ImportSubjectPublicKeyInfo(raw, out int read);
                    if (read != raw.Length) throw new FormatException("ECDSA public key has trailing bytes");
                }
                catch (CryptographicException e) { throw new FormatException("ECDSA public key is not a valid SubjectPublicKeyInfo", e); }
                break;
            case KeyType.Rsa:
                try
                {
                    using var rsa = RSA.Create();
                    rsa.ImportSubjectPublicKeyInfo(raw, out int read);
                    if (read != raw.Length) throw new FormatException("RSA public key has trailing bytes");
                    if (rsa.KeySize is < MinRsaBits or > MaxRsaBits) throw new FormatException($"RSA key of {rsa.KeySize} bits is outside {MinRsaBits}..{MaxRsaBits}");
                }
                catch (CryptographicException e) { throw new FormatException("RSA public key is not a valid SubjectPublicKeyInfo", e); }
                break;
            default:
                throw new FormatException($"unknown key type {(int)type}");
        }
    }

    public bool Equals(PublicKey? other) => other is not null && other._protobuf.AsSpan().SequenceEqual(_protobuf);

    public override bool Equals(object? obj) => Equals(obj as PublicKey);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_protobuf);
        return hash.ToHashCode();
    }

    public override string ToString() => $"{Type}:{Convert.ToHexStringLower(_raw)}";
}
