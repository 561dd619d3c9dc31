using System.Security.Cryptography;
using StoreSync.Libp2p.Discovery.Discv5;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Tests.Discovery.Discv5;

/// <summary>The official vectors of ethereum/devp2p discv5/discv5-wire-test-vectors.md, decoded and re-encoded byte for byte.</summary>
public class Discv5WireVectorTests
{
    internal static readonly byte[] NodeAKey = Hex.Bytes("eef77acb6c6a6eebc5b363a475ac583ec7eccdb42b6481424c60f59aa326547f");
    internal static readonly byte[] NodeBKey = Hex.Bytes("66fb62bfbd66b9177a138c1e5cddbe4f7c30c343e94e68df8769459cb1cde628");
    internal static readonly byte[] NodeAId = Hex.Bytes("aaaa8419e9f49d0083561b48287df592939a8d19947d8c0ef88f2a4856a69fbb");
    internal static readonly byte[] NodeBId = Hex.Bytes("bbbb9d047f0488c0b5a93c1c3f2d8bafc7c8ff337024a55434a0d0555de64db9");
    static readonly byte[] ZeroIv = new byte[16];
    static readonly byte[] AllOnesNonce = Hex.Bytes("ffffffffffffffffffffffff");
    static readonly byte[] EphemeralKey = Hex.Bytes("0288ef00023598499cb6c940146d050d2b1fb914198c327f76aad590bead68b6");
    static readonly byte[] EphemeralPubkey = Hex.Bytes("039a003ba6517b473fa0cd74aefe99dadfdb34627f90fec6362df85803908f53a5");
    static readonly byte[] ChallengeSeq0 = Hex.Bytes("000000000000000000000000000000006469736376350001010102030405060708090a0b0c00180102030405060708090a0b0c0d0e0f100000000000000000");
    static readonly byte[] ChallengeSeq1 = Hex.Bytes("000000000000000000000000000000006469736376350001010102030405060708090a0b0c00180102030405060708090a0b0c0d0e0f100000000000000001");

    internal static readonly byte[] PingPacket = Hex.Bytes(
        "00000000000000000000000000000000088b3d4342774649325f313964a39e55" +
        "ea96c005ad52be8c7560413a7008f16c9e6d2f43bbea8814a546b7409ce783d3" +
        "4c4f53245d08dab84102ed931f66d1492acb308fa1c6715b9d139b81acbdcc");

    internal static readonly byte[] WhoAreYouPacket = Hex.Bytes(
        "00000000000000000000000000000000088b3d434277464933a1ccc59f5967ad" +
        "1d6035f15e528627dde75cd68292f9e6c27d6b66c8100a873fcbaed4e16b8d");

    internal static readonly byte[] HandshakePacket = Hex.Bytes(
        "00000000000000000000000000000000088b3d4342774649305f313964a39e55" +
        "ea96c005ad521d8c7560413a7008f16c9e6d2f43bbea8814a546b7409ce783d3" +
        "4c4f53245d08da4bb252012b2cba3f4f374a90a75cff91f142fa9be3e0a5f3ef" +
        "268ccb9065aeecfd67a999e7fdc137e062b2ec4a0eb92947f0d9a74bfbf44dfb" +
        "a776b21301f8b65efd5796706adff216ab862a9186875f9494150c4ae06fa4d1" +
        "f0396c93f215fa4ef524f1eadf5f0f4126b79336671cbcf7a885b1f8bd2a5d83" +
        "9cf8");

    internal static readonly byte[] HandshakeWithRecordPacket = Hex.Bytes(
        "00000000000000000000000000000000088b3d4342774649305f313964a39e55" +
        "ea96c005ad539c8c7560413a7008f16c9e6d2f43bbea8814a546b7409ce783d3" +
        "4c4f53245d08da4bb23698868350aaad22e3ab8dd034f548a1c43cd246be9856" +
        "2fafa0a1fa86d8e7a3b95ae78cc2b988ded6a5b59eb83ad58097252188b902b2" +
        "1481e30e5e285f19735796706adff216ab862a9186875f9494150c4ae06fa4d1" +
        "f0396c93f215fa4ef524e0ed04c3c21e39b1868e1ca8105e585ec17315e755e6" +
        "cfc4dd6cb7fd8e1a1f55e49b4b5eb024221482105346f3c82b15fdaae36a3bb1" +
        "2a494683b4a3c7f2ae41306252fed84785e2bbff3b022812d0882f06978df84a" +
        "80d443972213342d04b9048fc3b1d5fcb1df0f822152eced6da4d3f6df27e70e" +
        "4539717307a0208cd208d65093ccab5aa596a34d7511401987662d8cf62b1394" +
        "71");

    // PING [req-id 0x00000001, enr-seq] as message-type ‖ RLP.
    static readonly byte[] PingSeq2 = Hex.Bytes("01c6840000000102");
    static readonly byte[] PingSeq1 = Hex.Bytes("01c6840000000101");

    [Fact]
    public void Ping_message_packet_decodes_and_reencodes()
    {
        var plaintext = Open(PingPacket, PacketFlag.Message, new byte[16], out var sourceId);
        Assert.Equal(Hex.Of(NodeAId), Hex.Of(sourceId));
        Assert.Equal(Hex.Of(PingSeq2), Hex.Of(plaintext));

        var packet = new byte[Discv5Limits.MaxPacketSize];
        int headerEnd = PacketCodec.WriteHeader(packet, ZeroIv, PacketFlag.Message, AllOnesNonce, NodeAId);
        using var key = new AesGcm(new byte[16], 16);
        using var masking = AesCtr.Create(NodeBId.AsSpan(0, 16));
        int length = PacketCodec.Seal(packet, headerEnd, PingSeq2, key, masking);
        Assert.Equal(Hex.Of(PingPacket), Hex.Of(packet.AsSpan(0, length)));
    }

    [Fact]
    public void WhoAreYou_packet_decodes_to_its_challenge_and_reencodes()
    {
        // The vector names B as the destination (all vectors decode with node-b-key's id).
        using var masking = AesCtr.Create(NodeBId.AsSpan(0, 16));
        var scratch = new byte[Discv5Limits.MaxPacketSize];
        Assert.Equal(PacketDropReason.None, PacketCodec.TryDecode(WhoAreYouPacket, masking, scratch, out var header));
        Assert.Equal(PacketFlag.WhoAreYou, header.Flag);
        Assert.Equal("0102030405060708090a0b0c", Hex.Of(header.Nonce));
        Assert.Equal(Hex.Of(ChallengeSeq0), Hex.Of(header.MessageAd));
        var challenge = WhoAreYouChallenge.Read(header.AuthData);
        Assert.Equal("0102030405060708090a0b0c0d0e0f10", Hex.Of(challenge.IdNonce));
        Assert.Equal(0ul, challenge.EnrSeq);

        var packet = new byte[Discv5Limits.MaxPacketSize];
        Span<byte> authData = stackalloc byte[Discv5Limits.WhoAreYouAuthDataLength];
        WhoAreYouChallenge.Write(authData, Hex.Bytes("0102030405060708090a0b0c0d0e0f10"), 0);
        int headerEnd = PacketCodec.WriteHeader(packet, ZeroIv, PacketFlag.WhoAreYou, Hex.Bytes("0102030405060708090a0b0c"), authData);
        int length = PacketCodec.Seal(packet, headerEnd, default, null, masking);
        Assert.Equal(Hex.Of(WhoAreYouPacket), Hex.Of(packet.AsSpan(0, length)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Handshake_packet_verifies_derives_the_read_key_and_reencodes(bool withRecord)
    {
        var vector = withRecord ? HandshakeWithRecordPacket : HandshakePacket;
        var challenge = withRecord ? ChallengeSeq0 : ChallengeSeq1;
        var readKey = Hex.Bytes(withRecord ? "53b1c075f41876423154e157470c2f48" : "4f9fac6de7567d1e3b1241dffe90f662");
        using var bMasking = AesCtr.Create(NodeBId.AsSpan(0, 16));
        var scratch = new byte[Discv5Limits.MaxPacketSize];
        Assert.Equal(PacketDropReason.None, PacketCodec.TryDecode(vector, bMasking, scratch, out var header));
        Assert.Equal(PacketFlag.Handshake, header.Flag);
        var auth = HandshakeAuthData.Read(header.AuthData);
        Assert.Equal(Hex.Of(NodeAId), Hex.Of(auth.SourceId));
        Assert.Equal(Hex.Of(EphemeralPubkey), Hex.Of(auth.EphemeralPublicKey));
        Assert.Equal(withRecord, auth.Record.Length > 0);
        var aPublic = Secp256k1Signatures.PublicKeyOf(NodeAKey);
        Assert.True(IdSignature.Verify(aPublic, auth.IdSignature, challenge, auth.EphemeralPublicKey, NodeBId));

        // B's side: ECDH with its static key and A's ephemeral key gives the initiator key A wrote with.
        var secret = KeyAgreement.Ecdh(auth.EphemeralPublicKey, NodeBKey);
        var keys = KeyAgreement.DeriveKeys(secret, challenge, NodeAId, NodeBId);
        Assert.Equal(Hex.Of(readKey), Hex.Of(keys.InitiatorKey));
        using var gcm = new AesGcm(keys.InitiatorKey, 16);
        var plaintext = new byte[header.Message.Length];
        Assert.True(PacketCodec.TryOpen(header, gcm, plaintext, out int written));
        Assert.Equal(Hex.Of(PingSeq1), Hex.Of(plaintext.AsSpan(0, written)));

        // A's side, from the same inputs: deterministic (RFC 6979) signing reproduces the vector exactly.
        var record = auth.Record.ToArray();
        var signature = IdSignature.Sign(NodeAKey, challenge, EphemeralPubkey, NodeBId);
        Assert.Equal(Hex.Of(auth.IdSignature), Hex.Of(signature));
        Assert.Equal(Hex.Of(EphemeralPubkey), Hex.Of(Secp256k1Signatures.PublicKeyOf(EphemeralKey)));
        var aSecret = KeyAgreement.Ecdh(Secp256k1Signatures.PublicKeyOf(NodeBKey), EphemeralKey);
        Assert.Equal(Hex.Of(secret), Hex.Of(aSecret));
        var authData = new byte[Discv5Limits.MaxPacketSize];
        int authLength = HandshakeAuthData.Write(authData, NodeAId, signature, EphemeralPubkey, record);
        var packet = new byte[Discv5Limits.MaxPacketSize];
        int headerEnd = PacketCodec.WriteHeader(packet, ZeroIv, PacketFlag.Handshake, AllOnesNonce, authData.AsSpan(0, authLength));
        int length = PacketCodec.Seal(packet, headerEnd, PingSeq1, gcm, bMasking);
        Assert.Equal(Hex.Of(vector), Hex.Of(packet.AsSpan(0, length)));
    }

    [Fact]
    public void Ecdh_vector()
    {
        var secret = KeyAgreement.Ecdh(Hex.Bytes("039961e4c2356d61bedb83052c115d311acb3a96f5777296dcf297351130266231"),
            Hex.Bytes("fb757dc581730490a1d7a00deea65e9b1936924caaea8f44d476014856b68736"));
        Assert.Equal("033b11a2a1f214567e1537ce5e509ffd9b21373247f2a3ff6841f4976f53165e7e", Hex.Of(secret));
    }

    [Fact]
    public void Key_derivation_vector()
    {
        var ephemeral = Hex.Bytes("fb757dc581730490a1d7a00deea65e9b1936924caaea8f44d476014856b68736");
        var destPubkey = Hex.Bytes("0317931e6e0840220642f230037d285d122bc59063221ef3226b1f403ddc69ca91");
        var keys = KeyAgreement.DeriveKeys(KeyAgreement.Ecdh(destPubkey, ephemeral), ChallengeSeq0, NodeAId, NodeBId);
        Assert.Equal("dccc82d81bd610f4f76d3ebe97a40571", Hex.Of(keys.InitiatorKey));
        Assert.Equal("ac74bb8773749920b0d3a8881c173ec5", Hex.Of(keys.RecipientKey));
    }

    [Fact]
    public void Id_nonce_signing_vector()
    {
        var staticKey = Hex.Bytes("fb757dc581730490a1d7a00deea65e9b1936924caaea8f44d476014856b68736");
        var ephemeralPubkey = Hex.Bytes("039961e4c2356d61bedb83052c115d311acb3a96f5777296dcf297351130266231");
        const string expected = "94852a1e2318c4e5e9d422c98eaf19d1d90d876b29cd06ca7cb7546d0fff7b484fe86c09a064fe72bdbef73ba8e9c34df0cd2b53e9d65528c2c7f336d5dfc6e6";
        Assert.Equal(expected, Hex.Of(IdSignature.Sign(staticKey, ChallengeSeq0, ephemeralPubkey, NodeBId)));
        Assert.True(IdSignature.Verify(Secp256k1Signatures.PublicKeyOf(staticKey), Hex.Bytes(expected), ChallengeSeq0, ephemeralPubkey, NodeBId));
        Assert.False(IdSignature.Verify(Secp256k1Signatures.PublicKeyOf(staticKey), Hex.Bytes(expected), ChallengeSeq1, ephemeralPubkey, NodeBId));
    }

    [Fact]
    public void Aes_gcm_vector()
    {
        using var gcm = new AesGcm(Hex.Bytes("9f2d77db7004bf8a1a85107ac686990b"), 16);
        var pt = Hex.Bytes("01c20101");
        var ct = new byte[pt.Length];
        var tag = new byte[16];
        gcm.Encrypt(Hex.Bytes("27b5af763c446acd2749fe8e"), pt, ct, tag, Hex.Bytes("93a7400fa0d6a694ebc24d5cf570f65d04215b6ac00757875e3f3a5f42107903"));
        Assert.Equal("a5d12a2d94b8ccb3ba55558229867dc13bfa3648", Hex.Of(ct) + Hex.Of(tag));
    }

    static byte[] Open(byte[] packet, PacketFlag flag, byte[] readKey, out byte[] sourceId)
    {
        using var local = AesCtr.Create(NodeBId.AsSpan(0, 16));
        var scratch = new byte[Discv5Limits.MaxPacketSize];
        Assert.Equal(PacketDropReason.None, PacketCodec.TryDecode(packet, local, scratch, out var header));
        Assert.Equal(flag, header.Flag);
        sourceId = header.SourceId.ToArray();
        using var gcm = new AesGcm(readKey, 16);
        var plaintext = new byte[header.Message.Length];
        Assert.True(PacketCodec.TryOpen(header, gcm, plaintext, out int written));
        return plaintext.AsSpan(0, written).ToArray();
    }
}
