using System.Net;
using StoreSync.Libp2p.Discovery.Discv5;
using StoreSync.Libp2p.Discovery.Rlp;

namespace StoreSync.Libp2p.Tests.Discovery.Discv5;

/// <summary>The six messages round-trip; the vectors' PING plaintext is what the codec writes; limits are enforced.</summary>
public class MessageCodecTests
{
    static readonly byte[] Id = [0, 0, 0, 1];

    [Fact]
    public void Ping_matches_the_vector_plaintext()
    {
        Assert.Equal("01c6840000000102", Hex.Of(MessageCodec.Encode(new PingMessage(Id, 2))));
        var ping = Assert.IsType<PingMessage>(MessageCodec.Decode(Hex.Bytes("01c6840000000101")));
        Assert.Equal(1ul, ping.EnrSeq);
        Assert.Equal(Id, ping.RequestId);
    }

    [Fact]
    public void Every_message_round_trips()
    {
        Discv5Message[] messages =
        [
            new PongMessage(Id, 7, IPAddress.Parse("127.0.0.1"), 9000),
            new PongMessage(Id, 7, IPAddress.Parse("::1"), 30303),
            new FindNodeMessage(Id, [256, 255, 0]),
            new NodesMessage(Id, 2, [Hex.Bytes("c58363617401"), Hex.Bytes("c180")]),
            new TalkRequestMessage(Id, "waku"u8.ToArray(), [1, 2, 3]),
            new TalkResponseMessage(Id, []),
        ];
        foreach (var message in messages)
        {
            var decoded = MessageCodec.Decode(MessageCodec.Encode(message));
            Assert.Equal(message.Type, decoded.Type);
            Assert.Equal(Hex.Of(MessageCodec.Encode(message)), Hex.Of(MessageCodec.Encode(decoded)));
        }
    }

    [Theory]
    [InlineData("01c98900000000000000000102")] // request-id of 9 bytes
    [InlineData("03c98400000001c3820101")]   // a distance of 257
    [InlineData("07c58400000001")]             // REGTOPIC and other types are not spoken
    [InlineData("01c684000000")]               // truncated
    [InlineData("")]
    public void Bad_messages_are_refused(string hex)
    {
        Assert.Throws<RlpException>(() => MessageCodec.Decode(Hex.Bytes(hex)));
    }

    [Fact]
    public void Nodes_responses_fit_a_packet_each()
    {
        // Records at the 300-byte maximum: an RLP string header b9 01 29 and 297 bytes.
        var records = Enumerable.Range(0, 16).Select(i => new byte[] { 0xb9, 0x01, 0x29 }.Concat(Enumerable.Repeat((byte)i, 297)).ToArray()).ToList();
        var messages = NodesPacking.Split(Id, records);
        Assert.All(messages, m => Assert.Equal(messages.Count, m.Total));
        Assert.Equal(16, messages.Sum(m => m.Records.Count));
        foreach (var m in messages)
            Assert.True(MessageCodec.Encode(m).Length + 87 <= Discv5Limits.MaxPacketSize);
        Assert.Single(NodesPacking.Split(Id, []));
    }
}
