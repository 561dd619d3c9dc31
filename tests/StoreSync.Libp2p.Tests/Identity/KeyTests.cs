using System.Formats.Asn1;
using System.Numerics;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Tests.Identity;

/// <summary>Key protobuf round trips and the libp2p signature formats of both identity key types.</summary>
public class KeyTests
{
    private static readonly BigInteger Secp256k1Order = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);

    [Theory]
    [InlineData(KeyType.Ed25519)]
    [InlineData(KeyType.Secp256k1)]
    public void Protobufs_round_trip(KeyType type)
    {
        var key = IdentityKey.Generate(type);
        var again = IdentityKey.FromPrivateKeyProtobuf(key.ToPrivateKeyProtobuf());
        Assert.Equal(type, again.Type);
        Assert.Equal(key.PeerId, again.PeerId);
        Assert.Equal(key.PublicKey, PublicKey.FromProtobuf(key.PublicKey.ToProtobuf()));
        Assert.Equal(key.PublicKey.GetHashCode(), PublicKey.FromProtobuf(key.PublicKey.ToProtobuf()).GetHashCode());
    }

    [Theory]
    [InlineData(KeyType.Ed25519)]
    [InlineData(KeyType.Secp256k1)]
    public void Signatures_verify_only_for_the_signed_data_and_key(KeyType type)
    {
        var key = IdentityKey.Generate(type);
        var other = IdentityKey.Generate(type);
        var data = "noise-libp2p-static-key:"u8.ToArray();
        var signature = key.Sign(data);
        Assert.True(key.PublicKey.Verify(data, signature));
        Assert.False(other.PublicKey.Verify(data, signature));
        Assert.False(key.PublicKey.Verify([.. data, 0], signature));
        var flipped = (byte[])signature.Clone();
        flipped[^1] ^= 1;
        Assert.False(key.PublicKey.Verify(data, flipped));
        Assert.False(key.PublicKey.Verify(data, []));
        Assert.False(key.PublicKey.Verify(data, new byte[300]));
    }

    [Fact]
    public void Ed25519_signature_matches_the_js_noise_payload_signature()
    {
        var key = IdentityKey.FromPrivateKeyProtobuf(Hex.Bytes("0801124000000000000000000000000000000000000000000000000000000000000000014cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29"));
        var signed = Hex.Bytes("6e6f6973652d6c69627032702d7374617469632d6b65793a07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c");
        Assert.Equal("7a74c87fa5584fa390f055ffbdea5fafc04876575255f9b15a40b0f232de9a003d3dbf1c5fb7a43a6f6afc772afc2d757cfbf610172bb7ba30d9556fffc9080f", Hex.Of(key.Sign(signed)));
    }

    [Fact]
    public void Secp256k1_signs_low_s_der_and_accepts_high_s()
    {
        var key = IdentityKey.Generate(KeyType.Secp256k1);
        var data = "hello"u8.ToArray();
        for (int i = 0; i < 20; i++)
        {
            var der = key.Sign(data);
            var (r, s) = ReadDer(der);
            Assert.True(s <= Secp256k1Order / 2, "signature S must be in the lower half of the order");
            var highS = WriteDer(r, Secp256k1Order - s);
            Assert.True(key.PublicKey.Verify(data, highS), "a high-S signature must still verify");
        }
    }

    [Fact]
    public void Other_key_types_parse_and_verify_but_cannot_be_identities()
    {
        using var ecdsa = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var pub = new PublicKey(KeyType.Ecdsa, ecdsa.ExportSubjectPublicKeyInfo());
        var data = "x"u8.ToArray();
        Assert.True(pub.Verify(data, ecdsa.SignData(data, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.DSASignatureFormat.Rfc3279DerSequence)));
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var rsaPub = new PublicKey(KeyType.Rsa, rsa.ExportSubjectPublicKeyInfo());
        Assert.StartsWith("Qm", PeerId.FromPublicKey(rsaPub).ToString());
        Assert.True(rsaPub.Verify(data, rsa.SignData(data, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1)));
        Assert.Equal("080012", Hex.Of(rsaPub.ToProtobuf().AsSpan(0, 3)));
        Assert.Throws<NotSupportedException>(() => IdentityKey.Generate(KeyType.Rsa));
        Assert.Throws<NotSupportedException>(() => IdentityKey.FromPrivateKeyProtobuf(Hex.Bytes("08031200")));
        using var small = System.Security.Cryptography.RSA.Create(1024);
        Assert.Contains("1024 bits", Assert.Throws<FormatException>(() => new PublicKey(KeyType.Rsa, small.ExportSubjectPublicKeyInfo())).Message);
    }

    [Theory]
    [InlineData("", "lacks its required")]
    [InlineData("0801", "lacks its required")]
    [InlineData("08011220", "truncated in Data")]
    [InlineData("0805122000", "unknown key type 5")]
    [InlineData("0801080112", "unexpected field tag 0x8")]
    [InlineData("1a00", "unexpected field tag 0x1a")]
    [InlineData("0801128080808001", "exceeds 2048")]
    [InlineData("08011221" + "000000000000000000000000000000000000000000000000000000000000000000", "must be 32 bytes")]
    [InlineData("08021220" + "0200000000000000000000000000000000000000000000000000000000000000", "33 or 65 bytes")]
    [InlineData("08021221" + "050000000000000000000000000000000000000000000000000000000000000000", "not a valid point encoding")]
    [InlineData("08021221" + "020000000000000000000000000000000000000000000000000000000000000005", "not a valid point encoding")]
    public void Bad_public_key_protobufs_name_the_problem(string hex, string fragment) =>
        Assert.Contains(fragment, Assert.Throws<FormatException>(() => PublicKey.FromProtobuf(Hex.Bytes(hex))).Message);

    [Theory]
    [InlineData("08011240" + "0000000000000000000000000000000000000000000000000000000000000001" + "0000000000000000000000000000000000000000000000000000000000000000", "does not belong to the seed")]
    [InlineData("08021220" + "0000000000000000000000000000000000000000000000000000000000000000", "out of range")]
    [InlineData("08021220" + "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", "out of range")]
    [InlineData("0802121f" + "00000000000000000000000000000000000000000000000000000000000001", "32 bytes")]
    public void Bad_private_keys_name_the_problem(string hex, string fragment) =>
        Assert.Contains(fragment, Assert.Throws<FormatException>(() => IdentityKey.FromPrivateKeyProtobuf(Hex.Bytes(hex))).Message);

    private static (BigInteger R, BigInteger S) ReadDer(byte[] der)
    {
        var reader = new AsnReader(der, AsnEncodingRules.DER);
        var seq = reader.ReadSequence();
        var r = seq.ReadInteger();
        var s = seq.ReadInteger();
        Assert.False(seq.HasData);
        Assert.False(reader.HasData);
        return (r, s);
    }

    private static byte[] WriteDer(BigInteger r, BigInteger s)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(r);
            writer.WriteInteger(s);
        }
        return writer.Encode();
    }
}
