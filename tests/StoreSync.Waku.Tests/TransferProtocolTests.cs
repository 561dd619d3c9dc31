using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p;
using StoreSync.Storage;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Sync;

namespace StoreSync.Waku.Tests;

/// <summary>The transfer payload of spec/sync.md §5.3, byte for byte (nwaku's field numbers), and its hash as the receiver recomputes it.</summary>
public sealed class TransferProtocolTests
{
    const long T0 = 1_700_000_000_000_000_000;

    // spec/sync.md §5.3, "Worked example": the frame body (without its 1-byte length prefix 0x33 = 51).
    const string Example = "0a0e2f77616b752f322f72732f312f30" + "1221" + "0a026869" + "12112f6170702f312f636861742f70726f746f" + "508080d0e2c6bfce972f";
    const string ExampleHash = "2a38b813672073127162be9ad1f37e012a25f93a46e06c1af36a8f1a44718823";

    [Fact]
    public void The_worked_example_decodes_to_its_message_and_reencodes_byte_identically()
    {
        var bytes = Convert.FromHexString(Example);
        Assert.Equal(51, bytes.Length);

        var (pubsub, message) = TransferProtocol.Decode(bytes);

        Assert.Equal("/waku/2/rs/1/0", pubsub);
        Assert.Equal("hi", message.Payload.ToStringUtf8());
        Assert.Equal("/app/1/chat/proto", message.ContentTopic);
        Assert.Equal(T0, message.Timestamp);
        Assert.False(message.HasVersion || message.HasMeta || message.HasEphemeral);
        Assert.Equal(Example, Convert.ToHexStringLower(TransferProtocol.Encode(pubsub, message)));
        Assert.Equal(ExampleHash, Convert.ToHexStringLower(MessageHash.Compute(pubsub, message).ToArray()));
    }

    [Fact]
    public void Field_numbers_are_nwaku_s_pubsub_topic_1_and_message_2_not_the_spec_s()
    {
        var message = new WakuMessage { Payload = ByteString.CopyFromUtf8("hi"), ContentTopic = "/app/1/chat/proto", Timestamp = T0 };
        // The spec's order (message = 1, pubsub topic = 2) is not what nwaku speaks: a field of the wrong wire type fails to parse,
        // and a frame with only one of the two fields is refused.
        byte[] specOrder = [0x0a, (byte)message.CalculateSize(), .. message.ToByteArray(), 0x12, 0x0e, .. "/waku/2/rs/1/0"u8.ToArray()];
        Assert.Throws<InvalidDataException>(() => TransferProtocol.Decode(specOrder));
        Assert.Throws<InvalidDataException>(() => TransferProtocol.Decode(Convert.FromHexString("0a0e2f77616b752f322f72732f312f30")));
        Assert.Throws<InvalidDataException>(() => TransferProtocol.Decode(Convert.FromHexString("12040a026869")));
        Assert.Throws<InvalidDataException>(() => TransferProtocol.Decode(Convert.FromHexString("0a0e2f77616b752f322f72732f312f3012210a026869"))); // truncated
    }

    [Fact]
    public void A_frame_built_from_the_stored_bytes_is_byte_for_byte_the_encoding_of_the_parsed_message()
    {
        using var t = new TempStore();
        WakuMessage[] messages =
        [
            new() { Payload = ByteString.CopyFromUtf8("hi"), ContentTopic = "/app/1/chat/proto", Timestamp = T0 },
            new() { ContentTopic = "/app/1/chat/proto", Timestamp = T0 + 1 },                                  // no payload at all
            new() { Payload = ByteString.CopyFrom(new byte[300]), ContentTopic = "/app/1/chat/proto", Timestamp = T0 + 2, Version = 1,
                    Meta = ByteString.CopyFromUtf8("meta"), Ephemeral = false, RateLimitProof = ByteString.CopyFrom([1, 2, 3]) },
        ];
        string[] topics = ["/waku/2/rs/1/0", "/waku/2/rs/16/" + new string('7', 200)];
        var items = messages.SelectMany(m => topics.Select(p => new IngestItem(p, m))).ToList();
        t.Store.Ingest(items);
        var hashes = items.Select(i => MessageHash.Compute(i.PubsubTopic, i.Message)).ToArray();
        var stored = t.Store.GetStoredBytes(hashes);
        for (int i = 0; i < hashes.Length; i++)
        {
            Assert.True(t.Store.TryGet(hashes[i], out var parsed));
            var body = TransferProtocol.Encode(parsed.PubsubTopic, parsed.Message);
            var expected = new byte[LengthPrefixed.WireSize(body.Length)];
            int at = Core.Wire.Varint.Write(expected, (ulong)body.Length);
            body.CopyTo(expected.AsSpan(at));
            var frame = new byte[TransferProtocol.StoredWireSize(stored[i]!.PubsubTopic, stored[i]!.Message.Length)];
            Assert.Equal(frame.Length, TransferProtocol.WriteStored(frame, stored[i]!.PubsubTopic, stored[i]!.Message));
            Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(frame));
            Assert.Equal(parsed.Message.ContentTopic, stored[i]!.ContentTopic);
        }
        Assert.Null(t.Store.GetStoredBytes([MessageHash.Zero])[0]);
    }
}
