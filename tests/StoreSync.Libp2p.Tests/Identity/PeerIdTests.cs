using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Tests.Identity;

/// <summary>Peer ids of the libp2p/specs key vectors and of seed-derived Ed25519 keys (libp2p-vectors.txt §1–2).</summary>
public class PeerIdTests
{
    private const string SpecEd25519 = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
    private const string SpecSecp256k1 = "08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99";
    private const string SpecEcdsa = "0803125b3059301306072a8648ce3d020106082a8648ce3d03010703420004de3d300fa36ae0e8f5d530899d83abab44abf3161f162a4bc901d8e6ecda020e8b6d5f8da30525e71d6851510c098e5c47c646a597fb4dcec034e9f77c409e62";

    [Theory]
    [InlineData(SpecEd25519, "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", "0024" + SpecEd25519)]
    [InlineData(SpecSecp256k1, "16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY", "0025" + SpecSecp256k1)]
    [InlineData(SpecEcdsa, "QmVMT29id3TUASyfZZ6k9hmNyc2nYabCo4uMSpDw4zrgDk", "122068362c312e155f4f7290b67f5cd094a22a0a4fbf20efd8c287934419350d36f7")]
    public void Spec_public_keys_give_the_js_peer_ids(string protobuf, string peerId, string multihash)
    {
        var key = PublicKey.FromProtobuf(Hex.Bytes(protobuf));
        Assert.Equal(protobuf, Hex.Of(key.ToProtobuf()));
        var id = PeerId.FromPublicKey(key);
        Assert.Equal(peerId, id.ToString());
        Assert.Equal(multihash, Hex.Of(id.Multihash.Span));
        Assert.Equal(id, PeerId.Parse(peerId));
        Assert.Equal(id, PeerId.Parse(id.ToCidString()));
        Assert.True(id.Matches(key));
    }

    [Fact]
    public void Inline_keys_are_recoverable_hashed_ones_are_not()
    {
        Assert.Equal(PublicKey.FromProtobuf(Hex.Bytes(SpecSecp256k1)), PeerId.Parse("16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY").TryGetPublicKey());
        Assert.Null(PeerId.Parse("QmVMT29id3TUASyfZZ6k9hmNyc2nYabCo4uMSpDw4zrgDk").TryGetPublicKey());
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000001",
        "0801124000000000000000000000000000000000000000000000000000000000000000014cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29",
        "080112204cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29",
        "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp", "bafzaajaiaejcatfvvp3k26p36wv3zsx4yju5qxgsmupnjoefwwdj6ja25xyklorj")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000002",
        "0801124000000000000000000000000000000000000000000000000000000000000000027422b9887598068e32c4448a949adb290d0f4e35b9e01b0ee5f1a1e600fe2674",
        "080112207422b9887598068e32c4448a949adb290d0f4e35b9e01b0ee5f1a1e600fe2674",
        "12D3KooWHdiAxVd8uMQR1hGWXccidmfCwLqcMpGwR6QcTP6QRMuD", "bafzaajaiaejca5bcxgehlgagryzmirekssnnwkinb5hdlopadmhol4nb4yap4jtu")]
    [InlineData("7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d",
        "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e",
        SpecEd25519,
        "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6")]
    public void Ed25519_seeds_give_the_js_keys_and_ids(string seed, string privateProtobuf, string publicProtobuf, string base58, string cid)
    {
        var key = IdentityKey.FromPrivateKeyProtobuf(Hex.Bytes(privateProtobuf));
        Assert.Equal(KeyType.Ed25519, key.Type);
        Assert.Equal(privateProtobuf, Hex.Of(key.ToPrivateKeyProtobuf()));
        Assert.Equal(publicProtobuf, Hex.Of(key.PublicKey.ToProtobuf()));
        Assert.Equal(base58, key.PeerId.ToString());
        Assert.Equal(cid, key.PeerId.ToCidString());
        Assert.Equal(key.PeerId, PeerId.Parse(cid));
        Assert.Equal(key.PeerId, PeerId.Parse(base58));
        Assert.Equal(key.PeerId, PeerId.Parse("z" + Base58.Encode([0x01, 0x72, .. key.PeerId.Multihash.Span])));
        Assert.Equal(key.PeerId, PeerId.Parse(cid.ToUpperInvariant()[..1].ToLowerInvariant() + cid[1..].ToUpperInvariant()));
        // A bare 32-byte seed (some tools write only that) gives the same identity.
        Assert.Equal(key.PeerId, IdentityKey.FromPrivateKeyProtobuf(Hex.Bytes("08011220" + seed)).PeerId);
    }

    [Fact]
    public void Secp256k1_spec_private_key_derives_the_spec_public_key()
    {
        var key = IdentityKey.FromPrivateKeyProtobuf(Hex.Bytes("0802122053DADF1D5A164D6B4ACDB15E24AA4C5B1D3461BDBD42ABEDB0A4404D56CED8FB"));
        Assert.Equal(KeyType.Secp256k1, key.Type);
        Assert.Equal(SpecSecp256k1, Hex.Of(key.PublicKey.ToProtobuf()));
        Assert.Equal("16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY", key.PeerId.ToString());
        Assert.Equal("0802122053dadf1d5a164d6b4acdb15e24aa4c5b1d3461bdbd42abedb0a4404d56ced8fb", Hex.Of(key.ToPrivateKeyProtobuf()));
    }

    [Fact]
    public void Generated_keys_have_the_usual_id_prefixes()
    {
        for (int i = 0; i < 20; i++)
        {
            Assert.StartsWith("16Uiu2HA", IdentityKey.Generate(KeyType.Secp256k1).PeerId.ToString());
            Assert.StartsWith("12D3KooW", IdentityKey.Generate(KeyType.Ed25519).PeerId.ToString());
        }
    }

    [Fact]
    public void Spec_cid_example_and_base58_example_name_the_same_peer()
    {
        var fromCid = PeerId.Parse("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe");
        Assert.Equal(PeerId.Parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"), fromCid);
        Assert.Equal("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe", fromCid.ToCidString());
    }

    [Theory]
    [InlineData("", "empty peer id")]
    [InlineData("12D3KooW0", "invalid base58 character '0'")]
    [InlineData("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5", "multihash")]
    [InlineData("x123", "neither base58btc nor")]
    [InlineData("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", "libp2p-key codec")]
    [InlineData("baiaaaaa", "version 1")]
    [InlineData("1", "multihash truncated")]
    public void Bad_peer_ids_name_the_problem(string text, string fragment)
    {
        var e = Assert.Throws<FormatException>(() => PeerId.Parse(text));
        Assert.Contains(fragment, e.Message);
        Assert.False(PeerId.TryParse(text, out _));
    }

    [Fact]
    public void Only_identity_and_sha256_multihashes_are_peer_ids()
    {
        Assert.Contains("identity or a 32-byte sha2-256", Assert.Throws<FormatException>(() => PeerId.FromMultihash(Multihash.Encode(0x13, new byte[64]))).Message);
        Assert.Contains("identity or a 32-byte sha2-256", Assert.Throws<FormatException>(() => PeerId.FromMultihash(Multihash.Encode(0x12, new byte[20]))).Message);
        Assert.Contains("exceeds", Assert.Throws<FormatException>(() => PeerId.FromMultihash(Hex.Bytes("00ffffffff0f"))).Message);
        Assert.Contains("longer than 256", Assert.Throws<FormatException>(() => PeerId.Parse(new string('1', 300))).Message);
    }
}
