using System.Text;
using System.Text.Json;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Node.Json;
using StoreSync.Waku.Proto;

namespace StoreSync.Node.Tests;

/// <summary>The REST store response has exactly the fields nwaku's REST API writes (waku_api/rest/store/types.nim), in its order.</summary>
public class MessageJsonTests
{
    static JsonElement Write(StoreQueryResponse response)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer)) MessageJson.WriteResponse(json, response);
        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    static List<string> Names(JsonElement e) => e.EnumerateObject().Select(p => p.Name).ToList();

    [Fact]
    public void A_page_has_nwakus_field_names_in_nwakus_order_with_meta_and_proof_only_when_present()
    {
        var full = new WakuMessage
        {
            Payload = ByteString.CopyFromUtf8("hi"), ContentTopic = "/app/1/chat/proto", Version = 1, Timestamp = 1_764_000_000_000_000_000,
            Meta = ByteString.CopyFrom(1, 2), RateLimitProof = ByteString.CopyFrom(3, 4, 5),
        };
        var plain = new WakuMessage { Payload = ByteString.Empty, ContentTopic = "/app/1/chat/proto", Timestamp = 1_764_000_000_000_000_001 };
        var hash = MessageHash.Compute("/waku/2/rs/1/0", full);
        var response = new StoreQueryResponse { RequestId = "r1", StatusCode = 200, StatusDesc = "OK", PaginationCursor = ByteString.CopyFrom(hash.ToArray()) };
        response.Messages.Add(new WakuMessageKeyValue { MessageHash = ByteString.CopyFrom(hash.ToArray()), Message = full, PubsubTopic = "/waku/2/rs/1/0" });
        response.Messages.Add(new WakuMessageKeyValue { MessageHash = ByteString.CopyFrom(MessageHash.Compute("/waku/2/rs/1/0", plain).ToArray()), Message = plain, PubsubTopic = "/waku/2/rs/1/0" });
        response.Messages.Add(new WakuMessageKeyValue { MessageHash = ByteString.CopyFrom(hash.ToArray()) }); // includeData=false

        var root = Write(response);
        Assert.Equal(["requestId", "statusCode", "statusDesc", "messages", "paginationCursor"], Names(root));
        var messages = root.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["messageHash", "message", "pubsubTopic"], Names(messages[0]));
        Assert.Equal(["payload", "contentTopic", "meta", "version", "timestamp", "ephemeral", "proof"], Names(messages[0].GetProperty("message")));
        Assert.Equal(["payload", "contentTopic", "version", "timestamp", "ephemeral"], Names(messages[1].GetProperty("message")));
        Assert.Equal(["messageHash"], Names(messages[2]));
        Assert.Equal("0x" + Convert.ToHexStringLower(hash.ToArray()), messages[0].GetProperty("messageHash").GetString());
        Assert.Equal(root.GetProperty("paginationCursor").GetString(), messages[0].GetProperty("messageHash").GetString());
        var m = messages[0].GetProperty("message");
        Assert.Equal("aGk=", m.GetProperty("payload").GetString());
        Assert.Equal("AQI=", m.GetProperty("meta").GetString());
        Assert.Equal("AwQF", m.GetProperty("proof").GetString());
        Assert.Equal(1_764_000_000_000_000_000, m.GetProperty("timestamp").GetInt64());
        Assert.Equal(200, root.GetProperty("statusCode").GetInt32());

        // The last page has no cursor field at all, as in nwaku.
        Assert.Equal(["requestId", "statusCode", "statusDesc", "messages"], Names(Write(new StoreQueryResponse { RequestId = "r2", StatusCode = 200, StatusDesc = "OK" })));
    }

    [Fact]
    public void What_is_written_reads_back_as_the_same_message_proof_included()
    {
        var message = new WakuMessage
        {
            Payload = ByteString.CopyFromUtf8("x"), ContentTopic = "/app/1/chat/proto", Timestamp = 1_764_000_000_000_000_000,
            Meta = ByteString.CopyFrom(9), RateLimitProof = ByteString.CopyFrom(7, 7),
        };
        var entry = new WakuMessageKeyValue { MessageHash = ByteString.CopyFrom(MessageHash.Compute("/waku/2/rs/1/0", message).ToArray()), Message = message, PubsubTopic = "/waku/2/rs/1/0" };
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer)) MessageJson.WriteKeyValue(json, entry);
        var record = MessageJson.ParseRecord(buffer.ToArray(), 1);
        Assert.Null(record.Error);
        Assert.Equal(message, record.Message);
        Assert.Equal("/waku/2/rs/1/0", record.PubsubTopic);
        Assert.Contains("\"proof\":\"Bwc=\"", Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
