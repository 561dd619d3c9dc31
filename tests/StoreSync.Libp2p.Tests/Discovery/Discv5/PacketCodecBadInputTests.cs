using StoreSync.Libp2p.Discovery.Discv5;

namespace StoreSync.Libp2p.Tests.Discovery.Discv5;

/// <summary>Junk datagrams are refused with a reason, never an exception, whatever their bytes.</summary>
public class PacketCodecBadInputTests
{
    static PacketDropReason Decode(byte[] packet)
    {
        using var masking = AesCtr.Create(Discv5WireVectorTests.NodeBId.AsSpan(0, 16));
        var scratch = new byte[Discv5Limits.MaxPacketSize];
        return PacketCodec.TryDecode(packet, masking, scratch, out _);
    }

    [Fact]
    public void Truncated_packets_are_refused()
    {
        var ping = Discv5WireVectorTests.PingPacket;
        Assert.Equal(PacketDropReason.TooShort, Decode(ping[..62]));
        // Long enough for the minimum but cut inside the GCM tag.
        Assert.Equal(PacketDropReason.BadMessageLength, Decode(Discv5WireVectorTests.HandshakePacket[..(16 + 23 + 34 + 64 + 33 + 8)]));
        // A handshake cut inside its authdata.
        Assert.Equal(PacketDropReason.BadAuthData, Decode(Discv5WireVectorTests.HandshakePacket[..100]));
        // A WHOAREYOU with one byte more.
        Assert.Equal(PacketDropReason.BadMessageLength, Decode([.. Discv5WireVectorTests.WhoAreYouPacket, 0]));
    }

    [Fact]
    public void Oversized_packets_are_refused_unread()
    {
        Assert.Equal(PacketDropReason.TooLarge, Decode(new byte[Discv5Limits.MaxPacketSize + 1]));
        Assert.Equal(PacketDropReason.TooLarge, Decode(new byte[65507]));
    }

    [Fact]
    public void Packets_masked_for_another_node_are_not_discv5_to_us()
    {
        using var other = AesCtr.Create(Discv5WireVectorTests.NodeAId.AsSpan(0, 16));
        var scratch = new byte[Discv5Limits.MaxPacketSize];
        Assert.Equal(PacketDropReason.NotDiscv5, PacketCodec.TryDecode(Discv5WireVectorTests.PingPacket, other, scratch, out _));
    }

    [Fact]
    public void Random_bytes_of_every_length_are_refused_without_exceptions()
    {
        var random = new Random(5);
        for (int i = 0; i < 5000; i++)
        {
            var junk = new byte[random.Next(0, Discv5Limits.MaxPacketSize + 64)];
            random.NextBytes(junk);
            Assert.NotEqual(PacketDropReason.None, Decode(junk));
        }
    }

    [Fact]
    public void Every_prefix_of_the_vectors_is_refused_by_the_codec_or_by_authentication()
    {
        var cases = new (byte[] Packet, byte[]? ReadKey)[]
        {
            (Discv5WireVectorTests.PingPacket, new byte[16]),
            (Discv5WireVectorTests.WhoAreYouPacket, null),
            (Discv5WireVectorTests.HandshakeWithRecordPacket, Hex.Bytes("53b1c075f41876423154e157470c2f48")),
        };
        using var masking = AesCtr.Create(Discv5WireVectorTests.NodeBId.AsSpan(0, 16));
        var scratch = new byte[Discv5Limits.MaxPacketSize];
        var plaintext = new byte[Discv5Limits.MaxPacketSize];
        foreach (var (vector, readKey) in cases)
            for (int length = 0; length < vector.Length; length++)
            {
                if (PacketCodec.TryDecode(vector.AsSpan(0, length), masking, scratch, out var header) != PacketDropReason.None)
                    continue;
                // A cut inside the message leaves a well-formed header: the GCM tag is what refuses it.
                Assert.NotNull(readKey);
                using var gcm = new System.Security.Cryptography.AesGcm(readKey, 16);
                Assert.False(PacketCodec.TryOpen(header, gcm, plaintext, out _));
            }
    }
}
