using System.Security.Cryptography;

namespace StoreSync.Libp2p.Identity;

/// <summary>A secp256k1 identity key (the kind nwaku nodes use; peer ids start with "16Uiu2HA").</summary>
internal sealed class Secp256k1IdentityKey : IdentityKey
{
    private readonly byte[] _privateKey;
    private readonly ECDsa _signer;
    private readonly Lock _signLock = new();

    public Secp256k1IdentityKey(byte[] privateKey) : this(privateKey, Secp256k1.PublicPointOf(privateKey)) { }

    private Secp256k1IdentityKey(byte[] privateKey, ECPoint q) : base(new PublicKey(KeyType.Secp256k1, Secp256k1.Compress(q)))
    {
        if (privateKey.Length != Secp256k1.PrivateKeyLength) throw new FormatException($"secp256k1 private key must be 32 bytes, not {privateKey.Length}");
        _privateKey = (byte[])privateKey.Clone();
        _signer = Secp256k1.CreateSigner(_privateKey, q);
    }

    public override KeyType Type => KeyType.Secp256k1;

    /// <summary>The 32-byte scalar, for the discovery protocols that sign digests and agree keys with it (ENR v4, discv5).</summary>
    internal ReadOnlySpan<byte> PrivateKeyBytes => _privateKey;

    public static Secp256k1IdentityKey Generate()
    {
        using var ecdsa = ECDsa.Create(ECCurve.CreateFromFriendlyName("secP256k1"));
        var parameters = ecdsa.ExportParameters(includePrivateParameters: true);
        return new Secp256k1IdentityKey(parameters.D!, parameters.Q);
    }

    public override byte[] Sign(ReadOnlySpan<byte> data)
    {
        // An ECDsa instance is not documented as thread-safe; signing happens once per handshake, so a lock costs nothing.
        lock (_signLock) return Secp256k1.Sign(_signer, data);
    }

    public override byte[] ToPrivateKeyProtobuf() => KeyProtobuf.Encode(KeyType.Secp256k1, _privateKey);
}
