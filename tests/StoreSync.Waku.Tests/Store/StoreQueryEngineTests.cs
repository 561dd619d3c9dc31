using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Storage;
using StoreSync.Storage.Query;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Waku.Tests.Store;

/// <summary>The engine's answers to Store v3 requests, as nwaku gives them on the wire.</summary>
public sealed class StoreQueryEngineTests : IDisposable
{
    const string Pubsub = "/waku/2/rs/1/0";
    readonly TempStore _t = new();
    readonly StoreQueryEngine _engine;
    readonly List<WakuMessage> _messages;

    public StoreQueryEngineTests()
    {
        _engine = new StoreQueryEngine(_t.Store);
        _messages = Enumerable.Range(0, 7).Select(i => TempStore.Message(i % 2 == 0 ? "/app/1/a/proto" : "/app/1/b/proto", 100 + i, $"m{i}")).ToList();
        _t.Store.Ingest(_messages.Select(m => new IngestItem(Pubsub, m)).ToList());
    }

    public void Dispose() => _t.Dispose();

    StoreQueryRequest Request(bool forward = true, ulong? limit = null)
    {
        var r = new StoreQueryRequest { RequestId = "req-1", PubsubTopic = Pubsub, PaginationForward = forward, IncludeData = true };
        r.ContentTopics.Add("/app/1/a/proto");
        r.ContentTopics.Add("/app/1/b/proto");
        if (limit is { } l) r.PaginationLimit = l;
        return r;
    }

    static ByteString Hash(WakuMessage m) => ByteString.CopyFrom(MessageHash.Compute(Pubsub, m).ToArray());

    [Fact]
    public void Js_waku_paging_ends_with_an_empty_200_page_at_the_last_entry()
    {
        // js-waku ignores the response cursor, takes the last hash of a page as the next cursor and stops on an empty page:
        // 7 messages with pages of 3 take 4 requests.
        var request = Request(limit: 3);
        var seen = new List<long>();
        int requests = 0;
        while (true)
        {
            var page = _engine.Execute(request);
            requests++;
            Assert.Equal(200u, page.StatusCode);
            Assert.Equal("OK", page.StatusDesc);
            Assert.Equal("req-1", page.RequestId);
            if (page.Messages.Count == 0) break;
            seen.AddRange(page.Messages.Select(m => m.Message.Timestamp));
            request.PaginationCursor = page.Messages[^1].MessageHash;
        }
        Assert.Equal(4, requests);
        Assert.Equal(Enumerable.Range(100, 7).Select(i => (long)i), seen);
    }

    [Fact]
    public void Backward_pages_are_ascending_and_the_cursor_is_the_oldest_entry()
    {
        var page = _engine.Execute(Request(forward: false, limit: 3));
        Assert.Equal([104L, 105, 106], page.Messages.Select(m => m.Message.Timestamp));
        Assert.Equal(Hash(_messages[4]), page.PaginationCursor);
        var request = Request(forward: false, limit: 3);
        request.PaginationCursor = page.PaginationCursor;
        Assert.Equal([101L, 102, 103], _engine.Execute(request).Messages.Select(m => m.Message.Timestamp));
    }

    [Fact]
    public void The_last_page_has_no_cursor_and_absent_direction_means_backward()
    {
        var request = new StoreQueryRequest { RequestId = "r", PubsubTopic = Pubsub };
        request.ContentTopics.Add("/app/1/a/proto");
        var page = _engine.Execute(request);
        Assert.False(page.HasPaginationCursor);
        Assert.Equal(4, page.Messages.Count);
        Assert.All(page.Messages, m => { Assert.Null(m.Message); Assert.False(m.HasPubsubTopic); Assert.True(m.HasMessageHash); });
    }

    [Theory]
    [InlineData(0ul, 7)]      // 0 = default 20
    [InlineData(1000ul, 7)]  // capped at 100
    [InlineData(2ul, 2)]
    public void Limits_default_and_cap(ulong limit, int expected) => Assert.Equal(expected, _engine.Execute(Request(limit: limit)).Messages.Count);

    [Fact]
    public void Time_range_is_inclusive_at_both_ends_as_in_nwaku()
    {
        var request = Request();
        request.TimeStart = 101;
        request.TimeEnd = 103;
        Assert.Equal([101L, 102, 103], _engine.Execute(request).Messages.Select(m => m.Message.Timestamp));
    }

    [Fact]
    public void Hash_lookup_returns_present_hashes_in_order_and_ands_the_pubsub_topic()
    {
        var request = new StoreQueryRequest { RequestId = "h", IncludeData = false, PaginationForward = true };
        request.MessageHashes.Add(Hash(_messages[5]));
        request.MessageHashes.Add(Hash(_messages[1]));
        request.MessageHashes.Add(ByteString.CopyFrom(new byte[32]));
        Assert.Equal([Hash(_messages[1]), Hash(_messages[5])], _engine.Execute(request).Messages.Select(m => m.MessageHash));
        request.PubsubTopic = "/waku/2/rs/1/1";
        Assert.Empty(_engine.Execute(request).Messages);
    }

    [Fact]
    public void Pubsub_topic_alone_spans_every_content_topic_and_no_filter_spans_everything()
    {
        _t.Store.Ingest([new("/waku/2/rs/1/1", TempStore.Message("/app/1/c/proto", 50))]);
        var request = new StoreQueryRequest { RequestId = "p", PubsubTopic = Pubsub, PaginationForward = true };
        Assert.Equal(7, _engine.Execute(request).Messages.Count);
        Assert.Equal(8, _engine.Execute(new StoreQueryRequest { RequestId = "all", PaginationForward = true }).Messages.Count);
        var byContent = new StoreQueryRequest { RequestId = "c", PaginationForward = true };
        byContent.ContentTopics.Add("/app/1/c/proto");
        Assert.Single(_engine.Execute(byContent).Messages);
    }

    [Fact]
    public void Unknown_topics_give_an_empty_success()
    {
        var request = new StoreQueryRequest { RequestId = "u", PubsubTopic = "/waku/2/rs/9/9" };
        request.ContentTopics.Add("/x/1/y/z");
        var page = _engine.Execute(request);
        Assert.Equal(200u, page.StatusCode);
        Assert.Empty(page.Messages);
    }

    [Theory]
    [InlineData("short", "BAD_RESPONSE: archive error: INVALID_QUERY: invalid cursor hash length: 5")]
    [InlineData("zero", "BAD_RESPONSE: archive error: INVALID_QUERY: all zeroes cursor hash")]
    [InlineData("unknown", "BAD_RESPONSE: archive error: DRIVER_ERROR: cursor not found")]
    [InlineData("topics", "BAD_RESPONSE: archive error: INVALID_QUERY: too many content topics")]
    [InlineData("hashes", "BAD_RESPONSE: archive error: INVALID_QUERY: too many message hashes (at most 100)")]
    [InlineData("hashlength", "BAD_RESPONSE: archive error: INVALID_QUERY: invalid message hash length: 31")]
    public void Errors_are_reported_as_nwaku_reports_them(string kind, string description)
    {
        var request = Request();
        switch (kind)
        {
            case "short": request.PaginationCursor = ByteString.CopyFrom(new byte[5]); break;
            case "zero": request.PaginationCursor = ByteString.CopyFrom(new byte[32]); break;
            case "unknown": request.PaginationCursor = ByteString.CopyFrom(Enumerable.Repeat((byte)7, 32).ToArray()); break;
            case "topics": request.ContentTopics.AddRange(Enumerable.Range(0, 9).Select(i => $"/app/1/t{i}/proto")); break;
            case "hashes": request.MessageHashes.AddRange(Enumerable.Range(0, 101).Select(i => ByteString.CopyFrom(Enumerable.Repeat((byte)i, 32).ToArray()))); break;
            case "hashlength": request.MessageHashes.Add(ByteString.CopyFrom(new byte[31])); break;
        }
        var response = _engine.Execute(request);
        Assert.Equal(300u, response.StatusCode);
        Assert.Equal(description, response.StatusDesc);
        Assert.Equal("req-1", response.RequestId);
        Assert.Empty(response.Messages);
        // Always written: nwaku's client requires request_id, status_code and status_desc.
        var bytes = response.ToByteArray();
        Assert.Equal(0x0a, bytes[0]);
    }
}
