using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Storage.Query;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>Walking every page of random queries over random stores equals the same query on a naive in-memory model.</summary>
/// <remarks>Stores and queries come from FsCheck generators with a shrinker, so a failure is reported as a small store and few queries.</remarks>
public class QueryModelProperties
{
    static readonly string[] Pubsubs = ["/waku/2/rs/1/0", "/waku/2/rs/1/1"];
    static readonly string[] Contents = ["/app/1/a/proto", "/app/1/b/proto", "/app/1/c/proto", "/app/1/d/proto"];

    sealed record Row(string Pubsub, string Content, long Timestamp, MessageHash Hash, Core.Proto.WakuMessage Message);

    /// <summary>A message to store: topic indices and a timestamp; its payload comes from its position, so hashes are distinct.</summary>
    sealed record RowSpec(int Pubsub, int Content, long Timestamp)
    {
        public override string ToString() => $"{Pubsub}/{Content}@{Timestamp}";
    }

    /// <summary>A query over the generated rows; <see cref="Lookup"/> picks rows by position (modulo the row count) and adds one unknown hash.</summary>
    sealed record QuerySpec(bool IncludeData, bool Forward, ulong? Limit, int[]? Lookup, int? Pubsub, int[] Contents, long? Start, long? End)
    {
        public override string ToString() =>
            $"(data {IncludeData}, forward {Forward}, limit {Limit}, lookup [{string.Join(",", Lookup ?? [])}], pubsub {Pubsub}, contents [{string.Join(",", Contents)}], {Start}..{End})";
    }

    /// <summary>One store, the queries walked over it and, for the insert property, the batches written between pages.</summary>
    sealed record Case(RowSpec[] Rows, QuerySpec[] Queries, RowSpec[][] Inserts)
    {
        public override string ToString() =>
            $"rows [{string.Join(" ", (object[])Rows)}]; queries [{string.Join(" ", (object[])Queries)}]; inserts [{string.Join(" | ", Inserts.Select(b => string.Join(" ", (object[])b)))}]";
    }

    // Few timestamps, so equal timestamps (ordered by hash) are common.
    static Gen<long> Time(int lowest) => Gen.Choose(lowest, 39).Select(t => t * 1000L - 5000);

    static Gen<T?> Sometimes<T>(int outOf, Gen<T> value) where T : struct =>
        Gen.Choose(0, outOf - 1).SelectMany(roll => roll == 0 ? Gen.Constant<T?>(null) : value.Select(v => (T?)v));

    static readonly Gen<RowSpec> RowGen =
        from p in Gen.Choose(0, Pubsubs.Length - 1)
        from c in Gen.Choose(0, Contents.Length - 1)
        from t in Time(0)
        select new RowSpec(p, c, t);

    static Gen<RowSpec[]> Rows(int most) => Gen.Choose(0, most).SelectMany(n => Gen.ArrayOf(RowGen, n));

    static readonly Gen<QuerySpec> QueryGen =
        from includeData in Gen.Elements(true, false)
        from forward in Gen.Elements(true, false)
        from limit in Sometimes(4, Gen.Choose(0, 7).Select(l => (ulong)l))
        from lookup in Gen.Choose(0, 4).SelectMany(roll => roll > 0 ? Gen.Constant<int[]?>(null)
            : Gen.Choose(1, 11).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 10_000), n)).Select(a => (int[]?)a))
        from pubsub in Sometimes(4, Gen.Choose(0, Pubsubs.Length - 1))
        from contents in Gen.SubListOf(Enumerable.Range(0, Contents.Length)).Select(l => l.ToArray())
        from start in Sometimes(2, Time(-10))
        from end in Sometimes(2, Time(-10))
        select new QuerySpec(includeData, forward, limit, lookup, pubsub, contents, start, end);

    static Arbitrary<Case> Cases(int mostRows, int queries, Gen<RowSpec[][]> inserts) => Arb.From(
        from rows in Rows(mostRows)
        from q in Gen.ArrayOf(QueryGen, queries)
        from i in inserts
        select new Case(rows, q, i), Shrink);

    /// <summary>Fewer queries, fewer rows, fewer inserted batches: each candidate drops half or one element of one list.</summary>
    static IEnumerable<Case> Shrink(Case c) =>
        Smaller(c.Queries).Select(q => c with { Queries = q })
            .Concat(Smaller(c.Rows).Select(r => c with { Rows = r }))
            .Concat(Smaller(c.Inserts).Select(i => c with { Inserts = i }));

    static IEnumerable<T[]> Smaller<T>(T[] items)
    {
        if (items.Length > 1)
        {
            yield return items[..(items.Length / 2)];
            yield return items[(items.Length / 2)..];
        }
        for (int i = 0; i < items.Length; i++) yield return [.. items[..i], .. items[(i + 1)..]];
    }

    static List<Row> Materialise(RowSpec[] specs, int offset = 0) => specs.Select((s, i) =>
    {
        var m = TempStore.Message(Contents[s.Content], s.Timestamp, $"p{offset + i}");
        return new Row(Pubsubs[s.Pubsub], m.ContentTopic, m.Timestamp, MessageHash.Compute(Pubsubs[s.Pubsub], m), m);
    }).ToList();

    static StoreQuery ToQuery(QuerySpec spec, List<Row> rows)
    {
        var query = new StoreQuery { RequestId = "q", IncludeData = spec.IncludeData, Forward = spec.Forward, Limit = spec.Limit, TimeStart = spec.Start, TimeEnd = spec.End };
        if (spec.Lookup is { } picks && rows.Count > 0)
            return query with
            {
                MessageHashes = [.. picks.Select(p => (ReadOnlyMemory<byte>)rows[p % rows.Count].Hash.ToArray()),
                    MessageHash.Compute("/x", TempStore.Message("/a/1/b/c", 1)).ToArray()],
            };
        return query with { PubsubTopic = spec.Pubsub is { } p ? Pubsubs[p] : null, ContentTopics = [.. spec.Contents.Select(c => Contents[c])] };
    }

    static IEnumerable<Row> ModelMatches(List<Row> rows, StoreQuery q)
    {
        var hashes = q.MessageHashes.Select(b => MessageHash.Read(b.Span)).ToHashSet();
        return rows.Where(r =>
                (hashes.Count == 0 || hashes.Contains(r.Hash))
                && (q.PubsubTopic is null || r.Pubsub == q.PubsubTopic)
                && (q.ContentTopics.Count == 0 || q.ContentTopics.Contains(r.Content))
                && (q.TimeStart is not { } start || r.Timestamp >= start)
                && (q.TimeEnd is not { } end || r.Timestamp <= end))
            .OrderBy(r => r.Timestamp).ThenBy(r => r.Hash);
    }

    /// <summary>Follows result cursors to the end; returns the pages in the order received.</summary>
    static List<List<StoreQueryRow>> Walk(StoreQueryEngine engine, StoreQuery q, Action? betweenPages = null)
    {
        var pages = new List<List<StoreQueryRow>>();
        var request = q;
        for (int guard = 0; guard < 1000; guard++)
        {
            // Parsed messages outlive the result; the rows' stored forms (pooled) are not used after it is disposed.
            using var response = engine.ExecuteWithMessages(request);
            Assert.Null(response.Error);
            pages.Add(response.ToList());
            int limit = q.Limit is null or 0 ? 20 : (int)Math.Min(q.Limit.Value, 100);
            Assert.True(response.Count <= limit);
            if (response.Cursor is not { } cursor) return pages;
            Assert.Equal(limit, response.Count);
            request = request with { Cursor = cursor.ToArray() };
            betweenPages?.Invoke();
        }
        throw new InvalidOperationException("paging did not end within 1000 pages");
    }

    [Property(MaxTest = 100)]
    public Property Walking_all_pages_equals_the_model() => Prop.ForAll(Cases(150, 8, Gen.Constant<RowSpec[][]>([])), c =>
    {
        var rows = Materialise(c.Rows);
        using var t = new TempStore();
        foreach (var chunk in rows.Chunk(37)) t.Store.Ingest(chunk.Select(r => new IngestItem(r.Pubsub, r.Message)).ToList());
        var engine = new StoreQueryEngine(t.Store);
        foreach (var spec in c.Queries)
        {
            var q = ToQuery(spec, rows);
            var expected = ModelMatches(rows, q).ToList();
            var pages = Walk(engine, q);
            var time = rows.ToDictionary(r => r.Hash, r => r.Timestamp);
            foreach (var page in pages)
                Assert.Equal(page.Select(r => r.Hash).OrderBy(h => time[h]).ThenBy(h => h), page.Select(r => r.Hash)); // each page ascending
            var walked = (q.Forward ? pages : Enumerable.Reverse(pages)).SelectMany(p => p).ToList();
            Assert.Equal(expected.Select(r => r.Hash), walked.Select(r => r.Hash));
            if (q.IncludeData)
                Assert.All(walked, kv => Assert.Equal(rows.First(r => r.Hash == kv.Hash).Message, kv.Message));
            else
                Assert.All(walked, kv => Assert.Null(kv.Message));
        }
    });

    [Property(MaxTest = 60)]
    public Property Inserts_between_pages_never_repeat_or_skip_what_existed_for_the_whole_walk() =>
        Prop.ForAll(Cases(120, 1, Gen.ListOf(Rows(5)).Select(l => l.ToArray())), Gen.Choose(1, 5).ToArbitrary(), (c, limit) =>
    {
        if (c.Queries.Length == 0) return;
        var rows = Materialise(c.Rows);
        using var t = new TempStore();
        t.Store.Ingest(rows.Select(r => new IngestItem(r.Pubsub, r.Message)).ToList());
        var engine = new StoreQueryEngine(t.Store);
        var added = new List<Row>();
        var q = ToQuery(c.Queries[0] with { Lookup = null }, rows) with { Limit = (ulong)limit };
        int batch = 0;
        var pages = Walk(engine, q, () =>
        {
            if (batch == c.Inserts.Length) return;
            var fresh = Materialise(c.Inserts[batch++], offset: 10_000 + added.Count);
            t.Store.Ingest(fresh.Select(r => new IngestItem(r.Pubsub, r.Message)).ToList());
            added.AddRange(fresh);
        });
        var walked = (q.Forward ? pages : Enumerable.Reverse(pages)).SelectMany(p => p).Select(r => r.Hash).ToList();
        var all = rows.Concat(added).ToList();
        var order = all.ToDictionary(r => r.Hash, r => (r.Timestamp, r.Hash));
        Assert.Equal(walked.Count, walked.Distinct().Count());                                  // no repeats
        Assert.Equal(walked.OrderBy(h => order[h]), walked);                                    // one ascending sequence
        Assert.Subset(ModelMatches(all, q).Select(r => r.Hash).ToHashSet(), walked.ToHashSet()); // nothing outside the query
        Assert.Superset(ModelMatches(rows, q).Select(r => r.Hash).ToHashSet(), walked.ToHashSet()); // nothing original skipped
    });
}
