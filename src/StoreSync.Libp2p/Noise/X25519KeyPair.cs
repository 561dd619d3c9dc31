using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc7748;

namespace StoreSync.Libp2p.Noise;

/// <summary>A Curve25519 Diffie-Hellman key pair (RFC 7748), the "25519" of the Noise protocol name.</summary>
internal sealed class X25519KeyPair
{
    public const int KeyLength = X25519.PointSize;

    private readonly byte[] _private;

    private X25519KeyPair(byte[] privateKey)
    {
        _private = privateKey;
        Public = new byte[KeyLength];
        X25519.ScalarMultBase(_private, 0, Public, 0);
    }

    public byte[] Public { get; }

    public static X25519KeyPair Generate() => new(RandomNumberGenerator.GetBytes(KeyLength));

    /// <summary>A fixed key, so tests can replay a reference transcript.</summary>
    public static X25519KeyPair FromPrivate(ReadOnlySpan<byte> privateKey) =>
        privateKey.Length == KeyLength ? new(privateKey.ToArray()) : throw new ArgumentException("X25519 private key must be 32 bytes", nameof(privateKey));

    /// <exception cref="NoiseHandshakeException">The remote key is a low-order point (all-zero shared secret).</exception>
    public void Agree(ReadOnlySpan<byte> remotePublic, Span<byte> sharedSecret)
    {
        var shared = new byte[KeyLength];
        // An all-zero result means the peer sent a low-order point, which would make the "secret" public.
        if (!X25519.CalculateAgreement(_private, 0, remotePublic.ToArray(), 0, shared, 0))
            throw new NoiseHandshakeException("noise: remote sent a low-order X25519 public key");
        shared.CopyTo(sharedSecret);
        CryptographicOperations.ZeroMemory(shared);
    }
}
