using StoreSync.Core;
using StoreSync.Storage.Query;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>Readers run beside writers; counters stay exact under concurrent ingest, duplicates, deletes and a restart.</summary>
public class ConcurrencyTests
{
    static readonly string[] Pubsubs = ["/waku/2/rs/1/0", "/waku/2/rs/1/1"];
    static readonly string[] Contents = ["/app/1/a/proto", "/app/1/b/proto", "/app/1/c/proto"];

    [Fact]
    public async Task Counters_stay_exact_and_every_page_is_consistent_while_two_writers_a_deleter_and_readers_run()
    {
        using var t = new TempStore();
        var random = new Random(11);
        // One shared pool: both writers ingest all of it in different orders, so every message is offered twice.
        var pool = Enumerable.Range(0, 3000).Select(i => new IngestItem(Pubsubs[i % 2],
            TempStore.Message(Contents[random.Next(Contents.Length)], random.Next(0, 500) * 1000L, $"c{i}"))).ToArray();
        var hashes = pool.Select(i => MessageHash.Compute(i.PubsubTopic, i.Message)).ToArray();
        long inserted = 0, duplicates = 0, deleted = 0;
        using var stop = new CancellationTokenSource();

        Task Writer(int seed) => Task.Run(() =>
        {
            var order = pool.OrderBy(_ => new Random(seed).Next()).ToArray();
            var r = new Random(seed);
            foreach (var chunk in order.Chunk(r.Next(20, 60)))
            {
                var result = t.Store.Ingest(chunk);
                Interlocked.Add(ref inserted, result.Inserted);
                Interlocked.Add(ref duplicates, result.Duplicates);
            }
        });
        var deleter = Task.Run(() =>
        {
            var r = new Random(3);
            for (int round = 0; round < 60; round++)
            {
                var victims = Enumerable.Range(0, 25).Select(_ => hashes[r.Next(hashes.Length)]).ToList();
                Interlocked.Add(ref deleted, t.Store.Delete(victims));
                if (round % 10 == 9)
                    Interlocked.Add(ref deleted, t.Store.DeleteRange(Pubsubs[round % 2], Contents[round % 3], round * 1000L, round * 1000L + 20_000));
            }
        });
        var engine = new StoreQueryEngine(t.Store);
        int pagesRead = 0;
        Task Reader(int seed) => Task.Run(() =>
        {
            var r = new Random(seed);
            while (!stop.IsCancellationRequested)
            {
                var request = new StoreQuery { RequestId = "r", PubsubTopic = Pubsubs[r.Next(2)], Forward = r.Next(2) == 0, Limit = 50, IncludeData = r.Next(2) == 0 };
                if (r.Next(2) == 0) request = request with { ContentTopics = [Contents[r.Next(3)]] };
                for (int page = 0; page < 5; page++)
                {
                    using var response = engine.ExecuteWithMessages(request);
                    // The cursor can be deleted between pages; that is the one legitimate error here.
                    if (response.Error is { } error) { Assert.Equal(new StoreQueryError(StoreQueryErrorKind.DriverError, "cursor not found"), error); break; }
                    var rows = response.ToList();
                    var keys = rows.Select(m => (Time: pool[Array.IndexOf(hashes, m.Hash)].Message.Timestamp, Hash: m.Hash)).ToList();
                    Assert.Equal(keys.OrderBy(k => k.Time).ThenBy(k => k.Hash), keys);
                    Assert.Equal(keys.Count, keys.Distinct().Count());
                    if (request.IncludeData) Assert.All(rows, m => Assert.Equal(request.PubsubTopic, m.PubsubTopic));
                    Interlocked.Increment(ref pagesRead);
                    if (response.Cursor is not { } cursor) break;
                    request = request with { Cursor = cursor.ToArray() };
                }
                var stats = t.Store.GetStatistics();
                Assert.Equal(stats.Messages, stats.PubsubTopics.Sum(p => p.Messages));
            }
        });

        var readers = new[] { Reader(1), Reader(2) };
        await Task.WhenAll(Writer(100), Writer(200), deleter);
        stop.Cancel();
        await Task.WhenAll(readers);

        Assert.Equal(2 * pool.Length, inserted + duplicates);
        long expected = inserted - deleted;
        Assert.Equal(expected, t.Store.GetStatistics().Messages);
        Assert.Equal(expected, hashes.Count(t.Store.Contains));
        Assert.Empty(StoreIntegrity.Check(t.Store));
        Assert.True(pagesRead > 0);

        var before = t.Store.GetStatistics();
        t.Reopen();
        Assert.Equal(before, t.Store.GetStatistics(), StatisticsComparer.Instance);
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public async Task Dispose_waits_for_an_open_reader_instead_of_closing_the_database_under_it()
    {
        var t = new TempStore();
        t.Store.Ingest([new(Pubsubs[0], TempStore.Message(Contents[0], 1, "x")), new(Pubsubs[0], TempStore.Message(Contents[0], 2, "y"))]);
        var reader = t.Store.OpenTimeIndex(Pubsubs[0], long.MinValue, MessageHash.Zero, forward: true);
        Assert.True(reader.MoveNext());
        var disposing = Task.Run(() => t.Store.Dispose());
        // Whatever the scheduling, the reader still works: the database cannot close while it is open.
        Assert.True(reader.MoveNext());
        Assert.Equal(2, reader.Current.Timestamp);
        reader.Dispose();
        await disposing;
        Assert.Throws<ObjectDisposedException>(() => t.Store.Ingest([new(Pubsubs[0], TempStore.Message(Contents[0], 3))]));
        using (var late = new StoreQueryEngine(t.Store).Execute(new StoreQuery { RequestId = "late" }))
            Assert.Equal(StoreQueryErrorKind.Unavailable, late.Error?.Kind);
        Directory.Delete(t.Path, recursive: true);
    }

    /// <summary>Statistics records hold lists; compare them by content.</summary>
    sealed class StatisticsComparer : IEqualityComparer<StoreStatistics>
    {
        public static readonly StatisticsComparer Instance = new();
        public bool Equals(StoreStatistics? a, StoreStatistics? b) => Render(a!) == Render(b!);
        public int GetHashCode(StoreStatistics s) => Render(s).GetHashCode();
        static string Render(StoreStatistics s) => $"{s.Messages}/{s.Bytes}:" + string.Join(";", s.PubsubTopics.Select(p =>
            $"{p.PubsubTopic}={p.Messages}/{p.Bytes}/{p.Oldest}/{p.Newest}[" + string.Join(",", p.ContentTopics.Select(c => $"{c.ContentTopic}={c.Messages}/{c.Bytes}/{c.Oldest}/{c.Newest}")) + "]"));
    }
}
