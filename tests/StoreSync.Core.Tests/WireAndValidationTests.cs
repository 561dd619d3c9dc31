using Google.Protobuf;
using StoreSync.Core.Proto;

namespace StoreSync.Core.Tests;

public class WireAndValidationTests
{
    static WakuMessage Valid() => new()
    {
        Payload = ByteString.CopyFromUtf8("hi"),
        ContentTopic = "/app/1/chat/proto",
        Timestamp = Timestamp.Now(),
    };

    [Fact]
    public void Empty_payload_is_still_written_as_field_1()
    {
        var bytes = new WakuMessage { ContentTopic = "/a/1/b/c" }.WithPayloadPresent().ToByteArray();
        Assert.Equal(new byte[] { 0x0a, 0x00 }, bytes[..2]);
    }

    [Fact]
    public void Timestamp_is_zigzag_sint64_field_10()
    {
        var bytes = new WakuMessage { ContentTopic = "", Timestamp = -1 }.ToByteArray();
        Assert.Equal(new byte[] { 0x50, 0x01 }, bytes);
    }

    [Theory]
    [InlineData("/app/1/chat/proto", true)]
    [InlineData("/0/app/1/chat/proto", true)]
    [InlineData("app/1/chat/proto", false)]
    [InlineData("/app/1/chat", false)]
    [InlineData("/app//chat/proto", false)]
    [InlineData("/app/1/ch at/proto", false)]
    [InlineData("", false)]
    public void Content_topic_shape(string topic, bool ok) => Assert.Equal(ok, ContentTopic.TryValidate(topic, out _));

    [Theory]
    [InlineData("/waku/2/rs/1/0", true)]
    [InlineData("/waku/2/default-waku/proto", true)]
    [InlineData("/waku/2/rs/1/x", false)]
    [InlineData("/waku/2/rs/1/70000", false)]
    [InlineData("/waku/2/", false)]
    [InlineData("waku", false)]
    public void Pubsub_topic_shape(string topic, bool ok) => Assert.Equal(ok, PubsubTopic.TryValidate(topic, out _));

    [Fact]
    public void Accepts_a_valid_message() => MessageValidator.Default.Validate("/waku/2/rs/1/0", Valid());

    [Fact]
    public void Rejects_oversized_messages_with_the_figure()
    {
        var m = Valid();
        m.Payload = ByteString.CopyFrom(new byte[200 * 1024]);
        var e = Assert.Throws<MessageValidationException>(() => MessageValidator.Default.Validate("/waku/2/rs/1/0", m));
        Assert.Contains("limit of 153600 bytes", e.Message);
    }

    [Fact]
    public void Respects_a_configured_size_limit()
    {
        var m = Valid();
        m.Payload = ByteString.CopyFrom(new byte[2000]);
        Assert.False(new MessageValidator { MaxMessageBytes = 1000 }.TryValidate("/waku/2/rs/1/0", m, out var error));
        Assert.Contains("1000", error);
    }

    [Fact]
    public void Rejects_long_meta_missing_and_absurd_timestamps_and_ephemeral()
    {
        var m = Valid(); m.Meta = ByteString.CopyFrom(new byte[65]);
        Assert.Contains("meta", Assert.Throws<MessageValidationException>(() => MessageValidator.Default.Validate("/waku/2/rs/1/0", m)).Message);
        m = Valid(); m.ClearTimestamp();
        Assert.Contains("no timestamp", Assert.Throws<MessageValidationException>(() => MessageValidator.Default.Validate("/waku/2/rs/1/0", m)).Message);
        m = Valid(); m.Timestamp = 1_700_000_000; // seconds, not nanoseconds
        Assert.Contains("2015", Assert.Throws<MessageValidationException>(() => MessageValidator.Default.Validate("/waku/2/rs/1/0", m)).Message);
        m = Valid(); m.Timestamp = Timestamp.Now() + 3600 * Timestamp.NanosPerSecond;
        Assert.Contains("future", Assert.Throws<MessageValidationException>(() => MessageValidator.Default.Validate("/waku/2/rs/1/0", m)).Message);
        m = Valid(); m.Ephemeral = true;
        Assert.Contains("ephemeral", Assert.Throws<MessageValidationException>(() => MessageValidator.Default.Validate("/waku/2/rs/1/0", m)).Message);
    }

    [Fact]
    public void Garbage_bytes_give_a_clear_error()
    {
        var e = Assert.Throws<MessageValidationException>(() => WakuMessageWire.Parse(new byte[] { 0xff, 0xff, 0xff }));
        Assert.Contains("not a WakuMessage", e.Message);
    }
}

public class TimestampTests
{
    [Theory]
    [InlineData(1700000000000000001L, "2023-11-14T22:13:20.000000001Z")]
    [InlineData(0L, "1970-01-01T00:00:00.000000000Z")]
    [InlineData(long.MaxValue, "2262-04-11T23:47:16.854775807Z")]
    [InlineData(-1L, "-1")]
    public void Formats_nanoseconds_as_iso_utc(long nanos, string expected) => Assert.Equal(expected, Timestamp.Format(nanos));
}
