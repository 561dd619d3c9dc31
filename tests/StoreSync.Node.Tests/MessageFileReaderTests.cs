using System.Text;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Node.Import;
using StoreSync.Waku.Proto;

namespace StoreSync.Node.Tests;

public class MessageFileReaderTests
{
    static async Task<List<ImportRecord>> ReadAll(byte[] bytes, MessageFileFormat format = MessageFileFormat.Auto, int maxMessageBytes = MessageValidator.DefaultMaxMessageBytes)
    {
        var list = new List<ImportRecord>();
        await foreach (var r in new MessageFileReader(new MemoryStream(bytes), format, maxMessageBytes).ReadAsync()) list.Add(r);
        return list;
    }

    static WakuMessage Message(int i) => new WakuMessage
    {
        Payload = ByteString.CopyFromUtf8($"message {i}"),
        ContentTopic = "/app/1/chat/proto",
        Timestamp = 1_700_000_000_000_000_000 + i,
    }.WithPayloadPresent();

    [Fact]
    public async Task Reads_nested_and_flat_json_lines_and_reports_bad_ones_by_line()
    {
        var text = """
            {"pubsubTopic":"/waku/2/rs/1/0","message":{"payload":"aGk=","contentTopic":"/a/1/b/proto","timestamp":1700000000000000000,"meta":"AAE=","version":1}}

            {"pubsubTopic":"/waku/2/rs/1/0","contentTopic":"/a/1/b/proto","payload":"aGk","timestamp":"1700000000000000001"}
            not json
            {"pubsubTopic":"/waku/2/rs/1/0","payload":"aGk="}
            {"contentTopic":"/a/1/b/proto"}
            {"pubsubTopic":"/waku/2/rs/1/0","contentTopic":"/a/1/b/proto","payload":"%%%"}
            """;
        var records = await ReadAll(Encoding.UTF8.GetBytes(text.Replace("\n", "\r\n")));

        Assert.Equal(6, records.Count);
        Assert.Null(records[0].Error);
        Assert.Equal(1u, records[0].Message!.Version);
        Assert.Equal(new byte[] { 0, 1 }, records[0].Message!.Meta.ToByteArray());
        Assert.Equal(1, records[0].Position);
        Assert.Null(records[1].Error);
        Assert.Equal(3, records[1].Position);
        Assert.Equal("hi", records[1].Message!.Payload.ToStringUtf8());
        Assert.Equal(1700000000000000001, records[1].Message!.Timestamp);
        Assert.Equal(4, records[2].Position);
        Assert.NotNull(records[2].Error);
        Assert.Contains("contentTopic", records[3].Error);
        Assert.Contains("pubsubTopic", records[4].Error);
        Assert.Contains("base64", records[5].Error);
    }

    [Fact]
    public async Task A_last_line_without_newline_is_read()
    {
        var records = await ReadAll("{\"pubsubTopic\":\"/waku/2/rs/1/0\",\"contentTopic\":\"/a/1/b/c\"}"u8.ToArray());
        Assert.Single(records);
        Assert.Null(records[0].Error);
    }

    [Fact]
    public async Task An_oversized_line_is_rejected_without_losing_the_next_one()
    {
        var big = "{\"pubsubTopic\":\"" + new string('x', 10_000) + "\"}\n";
        var good = "{\"pubsubTopic\":\"/waku/2/rs/1/0\",\"contentTopic\":\"/a/1/b/c\"}\n";
        var records = await ReadAll(Encoding.UTF8.GetBytes(big + good), MessageFileFormat.Ndjson, maxMessageBytes: 1024);
        Assert.Equal(2, records.Count);
        Assert.Contains("longer than", records[0].Error);
        Assert.Equal(1, records[0].Position);
        Assert.Null(records[1].Error);
        Assert.Equal(2, records[1].Position);
    }

    [Fact]
    public async Task Reads_length_delimited_protobuf_across_buffer_boundaries()
    {
        var stream = new MemoryStream();
        for (int i = 0; i < 2000; i++)
        {
            var m = Message(i);
            new WakuMessageKeyValue { MessageHash = ByteString.CopyFrom(MessageHash.Compute("/waku/2/rs/1/0", m).ToArray()), Message = m, PubsubTopic = "/waku/2/rs/1/0" }
                .WriteDelimitedTo(stream);
        }
        var records = await ReadAll(stream.ToArray());
        Assert.Equal(2000, records.Count);
        Assert.All(records, r => Assert.Null(r.Error));
        Assert.Equal(MessageHash.Compute("/waku/2/rs/1/0", Message(1999)), records[^1].ClaimedHash);
    }

    [Fact]
    public async Task Truncated_and_absurd_protobuf_records_give_clear_errors()
    {
        var stream = new MemoryStream();
        new WakuMessageKeyValue { Message = Message(0), PubsubTopic = "/waku/2/rs/1/0" }.WriteDelimitedTo(stream);
        var whole = stream.ToArray();
        var truncated = whole.Concat(whole[..^3]).ToArray();
        var records = await ReadAll(truncated, MessageFileFormat.Protobuf);
        Assert.Equal(2, records.Count);
        Assert.Null(records[0].Error);
        Assert.Contains("truncated", records[1].Error);

        // A length prefix claiming 2^62 bytes must not be believed (no allocation of that size).
        var absurd = whole.Concat(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40 }).ToArray();
        records = await ReadAll(absurd, MessageFileFormat.Protobuf);
        Assert.Equal(2, records.Count);
        Assert.Contains("above the limit", records[1].Error);

        records = await ReadAll([0x05, 0xff, 0xff, 0xff, 0xff, 0xff], MessageFileFormat.Protobuf);
        Assert.Single(records);
        Assert.Contains("not a WakuMessageKeyValue", records[0].Error);
    }

    [Fact]
    public async Task Missing_fields_in_protobuf_records_are_named()
    {
        var stream = new MemoryStream();
        new WakuMessageKeyValue { PubsubTopic = "/waku/2/rs/1/0" }.WriteDelimitedTo(stream);
        new WakuMessageKeyValue { Message = Message(1) }.WriteDelimitedTo(stream);
        new WakuMessageKeyValue { Message = Message(1), PubsubTopic = "/waku/2/rs/1/0", MessageHash = ByteString.CopyFrom(new byte[5]) }.WriteDelimitedTo(stream);
        var records = await ReadAll(stream.ToArray(), MessageFileFormat.Protobuf);
        Assert.Contains("no message", records[0].Error);
        Assert.Contains("no pubsub topic", records[1].Error);
        Assert.Contains("5 bytes", records[2].Error);
    }
}
