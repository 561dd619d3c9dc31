using Google.Protobuf;
using StoreSync.Core.Proto;

namespace StoreSync.Core.Tests;

public class MessageHashTests
{
    const string PayloadHex = "010203045445535405060708";
    const string SpecTopic = "/waku/2/default-waku/proto";
    const string SpecContentTopic = "/waku/2/default-content/proto";
    const long Ts = 0x175789bfa23f8400;
    const string Meta12 = "73757065722d736563726574";
    static readonly string Meta64 = Convert.ToHexString(Enumerable.Range(0, 64).Select(i => (byte)i).ToArray());

    // 14/WAKU2-MESSAGE test vectors and nwaku tests/waku_core/test_message_digest.nim.
    [Theory]
    [InlineData(SpecTopic, PayloadHex, Meta12, "0x64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05")]
    [InlineData(SpecTopic, PayloadHex, "meta64", "0x7158b6498753313368b9af8f6e0a0a05104f68f972981da42a43bc53fb0c1b27")]
    [InlineData(SpecTopic, PayloadHex, null, "0xa2554498b31f5bcdfcbf7fa58ad1c2d45f0254f3f8110a85588ec3cf10720fd8")]
    [InlineData(SpecTopic, "", Meta12, "0x483ea950cb63f9b9d6926b262bb36194d3f40a0463ce8446228350bd44e96de4")]
    [InlineData("/waku/2/rs/0/0", PayloadHex, "", "0xcccab07fed94181c83937c8ca8340c9108492b7ede354a6d95421ad34141fd37")]
    [InlineData("/waku/2/rs/0/0", PayloadHex, Meta12, "0xb9b4852f9d8c489846e8bfc6c5ca6a1a8d460a40d28832a966e029eb39619199")]
    [InlineData("/waku/2/rs/0/0", PayloadHex, "meta64", "0x653460d04f66c5b11814d235152f4f246e6f03ef80a305a825913636fbafd0ba")]
    [InlineData("/waku/2/rs/0/0", "", Meta12, "0x0f6448cc23b2db6c696aa6ab4b693eff4cf3549ff346fe1dbeb281697396a09f")]
    public void Matches_official_vectors(string pubsubTopic, string payloadHex, string? metaHex, string expected)
    {
        var message = new WakuMessage
        {
            Payload = ByteString.CopyFrom(Convert.FromHexString(payloadHex)),
            ContentTopic = SpecContentTopic,
            Timestamp = Ts,
        };
        if (metaHex is not null)
            message.Meta = ByteString.CopyFrom(Convert.FromHexString(metaHex == "meta64" ? Meta64 : metaHex));

        Assert.Equal(expected, MessageHash.Compute(pubsubTopic, message).ToString());
    }

    [Fact]
    public void Matches_js_waku_vector_on_a_sharded_topic()
    {
        var message = new WakuMessage
        {
            Payload = ByteString.CopyFromUtf8("hello #0"),
            ContentTopic = "/test/1/chat/proto",
            Timestamp = 1700000000000000000,
        };
        Assert.Equal("0xf584d43c68b4a05074a73705642a6353d4ffa970ce1ae72821fc92052c453d72",
            MessageHash.Compute("/waku/2/rs/1/0", message).ToString());
    }

    [Fact]
    public void Large_payloads_hash_like_small_ones()
    {
        var payload = new byte[100_000];
        new Random(1).NextBytes(payload);
        var message = new WakuMessage { Payload = ByteString.CopyFrom(payload), ContentTopic = "/a/1/b/proto", Timestamp = Ts };
        var concat = System.Text.Encoding.UTF8.GetBytes("/waku/2/rs/1/0").Concat(payload)
            .Concat(System.Text.Encoding.UTF8.GetBytes("/a/1/b/proto")).Concat(BitConverter.GetBytes(Ts).Reverse()).ToArray();
        Assert.Equal(MessageHash.Read(System.Security.Cryptography.SHA256.HashData(concat)), MessageHash.Compute("/waku/2/rs/1/0", message));
    }

    [Fact]
    public void Compares_bytes_lexicographically()
    {
        var a = new byte[32]; var b = new byte[32];
        a[7] = 1; b[8] = 0xff;
        Assert.True(MessageHash.Read(a) > MessageHash.Read(b));
        a[7] = 0; a[31] = 1;
        Assert.True(MessageHash.Read(a) < MessageHash.Read(b));
    }

    [Theory]
    [InlineData("0x64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05")]
    [InlineData("64CCE733FED134E83DA02B02C6F689814872B1A0AC97EA56B76095C3C72BFE05")]
    [InlineData("ZMznM/7RNOg9oCsCxvaJgUhysaCsl+pWt2CVw8cr/gU=")]
    [InlineData("ZMznM_7RNOg9oCsCxvaJgUhysaCsl-pWt2CVw8cr_gU")]
    public void Parses_hex_and_base64(string text)
    {
        Assert.Equal("0x64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05", MessageHash.Parse(text).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("0x1234")]
    [InlineData("not a hash at all")]
    public void Rejects_malformed_text(string text) => Assert.False(MessageHash.TryParse(text, out _));
}
