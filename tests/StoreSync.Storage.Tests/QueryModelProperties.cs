using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>Walking every page of random queries over random stores equals the same query on a naive in-memory model.</summary>
public class QueryModelProperties
{
    static readonly string[] Pubsubs = ["/waku/2/rs/1/0", "/waku/2/rs/1/1"];
    static readonly string[] Contents = ["/app/1/a/proto", "/app/1/b/proto", "/app/1/c/proto", "/app/1/d/proto"];

    sealed record Row(string Pubsub, string Content, long Timestamp, MessageHash Hash, WakuMessage Message);

    /// <summary>Random messages over few timestamps, so equal timestamps (ordered by hash) are common.</summary>
    static List<Row> RandomRows(Random random, int count, int offset = 0) =>
        Enumerable.Range(offset, count).Select(i =>
        {
            var pubsub = Pubsubs[random.Next(Pubsubs.Length)];
            var m = TempStore.Message(Contents[random.Next(Contents.Length)], random.Next(0, 40) * 1000L - 5000, $"p{i}-{random.Next()}");
            return new Row(pubsub, m.ContentTopic, m.Timestamp, MessageHash.Compute(pubsub, m), m);
        }).ToList();

    static StoreQueryRequest RandomQuery(Random random, List<Row> rows)
    {
        var q = new StoreQueryRequest { RequestId = "q", IncludeData = random.Next(2) == 0, PaginationForward = random.Next(2) == 0 };
        if (random.Next(4) > 0) q.PaginationLimit = (ulong)random.Next(0, 8);
        if (random.Next(5) == 0 && rows.Count > 0)
        {
            foreach (var r in rows.OrderBy(_ => random.Next()).Take(random.Next(1, 12))) q.MessageHashes.Add(ByteString.CopyFrom(r.Hash.ToArray()));
            q.MessageHashes.Add(ByteString.CopyFrom(MessageHash.Compute("/x", TempStore.Message("/a/1/b/c", 1)).ToArray()));
        }
        else
        {
            if (random.Next(4) > 0) q.PubsubTopic = Pubsubs[random.Next(Pubsubs.Length)];
            foreach (var c in Contents.Where(_ => random.Next(3) == 0)) q.ContentTopics.Add(c);
        }
        if (random.Next(2) == 0) q.TimeStart = random.Next(-10, 40) * 1000L - 5000;
        if (random.Next(2) == 0) q.TimeEnd = random.Next(-10, 40) * 1000L - 5000;
        return q;
    }

    static IEnumerable<Row> ModelMatches(List<Row> rows, StoreQueryRequest q)
    {
        var hashes = q.MessageHashes.Select(b => MessageHash.Read(b.Span)).ToHashSet();
        return rows.Where(r =>
                (hashes.Count == 0 || hashes.Contains(r.Hash))
                && (!q.HasPubsubTopic || r.Pubsub == q.PubsubTopic)
                && (q.ContentTopics.Count == 0 || q.ContentTopics.Contains(r.Content))
                && (!q.HasTimeStart || r.Timestamp >= q.TimeStart)
                && (!q.HasTimeEnd || r.Timestamp <= q.TimeEnd))
            .OrderBy(r => r.Timestamp).ThenBy(r => r.Hash);
    }

    /// <summary>Follows response cursors to the end; returns the pages in the order received.</summary>
    static List<List<WakuMessageKeyValue>> Walk(StoreQueryEngine engine, StoreQueryRequest q, Action? betweenPages = null)
    {
        var pages = new List<List<WakuMessageKeyValue>>();
        var request = q.Clone();
        for (int guard = 0; guard < 1000; guard++)
        {
            var response = engine.Execute(request);
            Assert.Equal(200u, response.StatusCode);
            pages.Add(response.Messages.ToList());
            int limit = q.PaginationLimit == 0 ? 20 : (int)Math.Min(q.PaginationLimit, 100);
            Assert.True(response.Messages.Count <= limit);
            if (!response.HasPaginationCursor) return pages;
            Assert.Equal(limit, response.Messages.Count);
            request.PaginationCursor = response.PaginationCursor;
            betweenPages?.Invoke();
        }
        throw new InvalidOperationException("paging did not end within 1000 pages");
    }

    static MessageHash H(WakuMessageKeyValue kv) => MessageHash.Read(kv.MessageHash.Span);

    [Property(MaxTest = 100)]
    public void Walking_all_pages_equals_the_model(PositiveInt seed)
    {
        var random = new Random(seed.Get);
        var rows = RandomRows(random, random.Next(0, 150));
        using var t = new TempStore();
        foreach (var chunk in rows.Chunk(37)) t.Store.Ingest(chunk.Select(r => new IngestItem(r.Pubsub, r.Message)).ToList());
        var engine = new StoreQueryEngine(t.Store);
        for (int i = 0; i < 8; i++)
        {
            var q = RandomQuery(random, rows);
            var expected = ModelMatches(rows, q).ToList();
            var pages = Walk(engine, q);
            var time = rows.ToDictionary(r => r.Hash, r => r.Timestamp);
            foreach (var page in pages)
                Assert.Equal(page.Select(H).OrderBy(h => time[h]).ThenBy(h => h), page.Select(H)); // each page ascending
            var walked = (q.PaginationForward ? pages : Enumerable.Reverse(pages)).SelectMany(p => p).ToList();
            Assert.Equal(expected.Select(r => r.Hash), walked.Select(H));
            if (q.IncludeData)
                Assert.All(walked, kv => Assert.Equal(rows.First(r => r.Hash == H(kv)).Message, kv.Message));
            else
                Assert.All(walked, kv => Assert.Null(kv.Message));
        }
    }

    [Property(MaxTest = 60)]
    public void Inserts_between_pages_never_repeat_or_skip_what_existed_for_the_whole_walk(PositiveInt seed)
    {
        var random = new Random(seed.Get);
        var rows = RandomRows(random, random.Next(0, 120));
        using var t = new TempStore();
        t.Store.Ingest(rows.Select(r => new IngestItem(r.Pubsub, r.Message)).ToList());
        var engine = new StoreQueryEngine(t.Store);
        var added = new List<Row>();
        var q = RandomQuery(random, rows);
        q.MessageHashes.Clear();
        q.PaginationLimit = (ulong)random.Next(1, 6);
        var pages = Walk(engine, q, () =>
        {
            var fresh = RandomRows(random, random.Next(0, 6), offset: 10_000 + added.Count);
            t.Store.Ingest(fresh.Select(r => new IngestItem(r.Pubsub, r.Message)).ToList());
            added.AddRange(fresh);
        });
        var walked = (q.PaginationForward ? pages : Enumerable.Reverse(pages)).SelectMany(p => p).Select(H).ToList();
        var all = rows.Concat(added).ToList();
        var order = all.ToDictionary(r => r.Hash, r => (r.Timestamp, r.Hash));
        Assert.Equal(walked.Count, walked.Distinct().Count());                                  // no repeats
        Assert.Equal(walked.OrderBy(h => order[h]), walked);                                    // one ascending sequence
        Assert.Subset(ModelMatches(all, q).Select(r => r.Hash).ToHashSet(), walked.ToHashSet()); // nothing outside the query
        Assert.Superset(ModelMatches(rows, q).Select(r => r.Hash).ToHashSet(), walked.ToHashSet()); // nothing original skipped
    }

    sealed class HideContent(string content) : Query.IStoreVisibility
    {
        public bool IsVisible(string pubsubTopic, string contentTopic) => contentTopic != content;
    }

    [Property(MaxTest = 60)]
    public void The_encoded_response_is_byte_for_byte_the_object_responses_encoding(PositiveInt seed)
    {
        var random = new Random(seed.Get);
        var rows = RandomRows(random, random.Next(0, 120));
        foreach (var r in rows.Where(_ => random.Next(4) == 0)) r.Message.Meta = ByteString.CopyFrom([1, 2, (byte)random.Next(256)]);
        rows = rows.Select(r => r with { Hash = MessageHash.Compute(r.Pubsub, r.Message) }).ToList();
        using var t = new TempStore();
        t.Store.Ingest(rows.Select(r => new IngestItem(r.Pubsub, r.Message)).ToList());
        var engine = new StoreQueryEngine(t.Store);
        for (int i = 0; i < 6; i++)
        {
            var request = RandomQuery(random, rows);
            switch (random.Next(8))
            {
                case 0: request.ClearRequestId(); break;
                case 1: request.RequestId = "ünïcode-" + random.Next(); break;
                case 2: request.PaginationCursor = ByteString.CopyFrom(new byte[random.Next(0, 40)]); break; // bad length or all zeroes
                case 3: request.PaginationCursor = ByteString.CopyFrom(MessageHash.Compute("/x", TempStore.Message("/a/1/b/c", 2)).ToArray()); break; // unknown
            }
            Query.IStoreVisibility? visibility = random.Next(3) == 0 ? new HideContent(Contents[random.Next(Contents.Length)]) : null;
            for (int page = 0; page < 50; page++)
            {
                var expected = engine.Execute(request, visibility);
                using var encoded = engine.ExecuteEncoded(request, visibility);
                Assert.Equal(expected.ToByteArray(), encoded.Bytes.ToArray());
                Assert.Equal((expected.StatusCode, expected.Messages.Count), (encoded.StatusCode, encoded.MessageCount));
                var withData = expected.Messages.Where(m => m.Message is not null).ToList();
                Assert.Equal(withData.Select(m => m.Message.ContentTopic).Distinct(), encoded.ContentTopics);
                Assert.Equal(withData.Select(m => m.PubsubTopic).Distinct().Count() == 1 ? withData[0].PubsubTopic : null, encoded.PubsubTopic);
                if (!expected.HasPaginationCursor) break;
                request.PaginationCursor = expected.PaginationCursor;
            }
        }
    }
}
