using FsCheck;
using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Testing;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>The store as the reconciler's ordered item source equals a sorted in-memory model, scope by scope and range by range.</summary>
public class StoreSyncItemsProperties
{
    static readonly string[] Pubsubs = ["/waku/2/rs/1/0", "/waku/2/rs/1/1", "/waku/2/rs/1/2"];
    static readonly string[] Contents = ["/app/1/a/proto", "/app/1/b/proto", "/app/1/c/proto"];

    static SyncScope RandomScope(ChoiceTape r) => new(
        Pubsubs.Append("/waku/2/unknown").Where(_ => r.Next(3) == 0).ToArray(),
        Contents.Append("/app/1/unknown/proto").Where(_ => r.Next(3) == 0).ToArray());

    [Property(MaxTest = 40, Arbitrary = [typeof(ChoiceTapes)])]
    public void Reads_of_any_range_in_any_chunk_size_equal_the_model(ChoiceTape r)
    {
        using var t = new TempStore();
        var rows = Enumerable.Range(0, r.Next(0, 200)).Select(i =>
        {
            var pubsub = Pubsubs[r.Next(Pubsubs.Length)];
            var m = TempStore.Message(Contents[r.Next(Contents.Length)], r.Next(-5, 30) * 100L, $"s{i}-{r.Next()}");
            return (Pubsub: pubsub, Content: m.ContentTopic, Item: new SyncItem(m.Timestamp, MessageHash.Compute(pubsub, m)), Message: m);
        }).ToList();
        t.Store.Ingest(rows.Select(x => new IngestItem(x.Pubsub, x.Message)).ToList());

        var queries = new List<(SyncScope Scope, SyncItem From, SyncItem To, int Chunk, List<SyncItem> Expected)>();
        for (int q = 0; q < 6; q++)
        {
            var scope = RandomScope(r);
            var inScope = rows.Where(x => (scope.PubsubTopics.Count == 0 || scope.PubsubTopics.Contains(x.Pubsub))
                                          && (scope.ContentTopics.Count == 0 || scope.ContentTopics.Contains(x.Content)))
                .Select(x => x.Item).Order().ToList();
            var bounds = new[] { SyncItem.MinValue, SyncItem.MaxValue, SyncItem.At(r.Next(-6, 31) * 100L), SyncItem.At(r.Next(-6, 31) * 100L) }
                .Concat(inScope.Count > 0 ? [inScope[r.Next(inScope.Count)], inScope[r.Next(inScope.Count)]] : []).ToList();
            var from = bounds[r.Next(bounds.Count)];
            var to = bounds[r.Next(bounds.Count)];
            queries.Add((scope, from, to, r.Next(1, 9), inScope.Where(i => i >= from && i < to).ToList()));
        }
        foreach (var q in queries) Assert.Equal(q.Expected, Walk(t.Store.SyncItems(q.Scope), q.From, q.To, q.Chunk));
        // The same reads sharing one snapshot and one iterator per topic (as a reconciliation frame does), across scopes.
        using (var shared = t.Store.ShareReads())
        {
            foreach (var q in queries) Assert.Equal(q.Expected, Walk(t.Store.SyncItems(q.Scope), q.From, q.To, q.Chunk));
            Assert.True(shared.Snapshots <= 1);
        }
    }

    // Paged in chunks as a reconciler does: each next read starts at the successor of the last item.
    static List<SyncItem> Walk(StoreSyncItems items, SyncItem from, SyncItem to, int chunkLength)
    {
        var walked = new List<SyncItem>();
        var chunk = new SyncItem[chunkLength];
        var at = from;
        while (at < to)
        {
            int n = items.Read(at, to, chunk);
            for (int i = 0; i < n; i++) walked.Add(chunk[i]);
            if (n < chunk.Length) break;
            at = chunk[n - 1].Successor();
        }
        return walked;
    }

    [Fact]
    public void Shared_reads_see_one_snapshot_until_refreshed_and_belong_to_their_thread()
    {
        using var t = new TempStore();
        var scope = new SyncScope([Pubsubs[0]], []);
        var items = t.Store.SyncItems(scope);
        var buffer = new SyncItem[16];
        t.Store.Ingest([new IngestItem(Pubsubs[0], TempStore.Message(Contents[0], 100, "first"))]);
        using (var shared = t.Store.ShareReads())
        {
            Assert.Same(shared, SharedReads.Current(t.Store));
            Assert.Equal(1, items.Read(SyncItem.MinValue, SyncItem.MaxValue, buffer));
            t.Store.Ingest([new IngestItem(Pubsubs[0], TempStore.Message(Contents[0], 200, "second"))]);
            Assert.Equal(1, items.Read(SyncItem.MinValue, SyncItem.MaxValue, buffer)); // the frame's snapshot
            // Another thread reads the present.
            Assert.Equal(2, OnAnotherThread(() => items.Read(SyncItem.MinValue, SyncItem.MaxValue, new SyncItem[16])));
            shared.Refresh();
            Assert.Equal(2, items.Read(SyncItem.MinValue, SyncItem.MaxValue, buffer));
            Assert.Equal(2, shared.Snapshots);
        }
        Assert.Null(SharedReads.Current(t.Store));
        t.Store.Ingest([new IngestItem(Pubsubs[0], TempStore.Message(Contents[0], 300, "third"))]);
        Assert.Equal(3, items.Read(SyncItem.MinValue, SyncItem.MaxValue, buffer));

        var elsewhere = t.Store.ShareReads();
        Assert.Equal(3, items.Read(SyncItem.MinValue, SyncItem.MaxValue, buffer));
        Assert.IsType<InvalidOperationException>(OnAnotherThread<Exception?>(() => Record.Exception(elsewhere.Dispose)));
        Assert.Null(SharedReads.Current(t.Store)); // disposed all the same
    }

    static T OnAnotherThread<T>(Func<T> work)
    {
        T result = default!;
        var thread = new Thread(() => result = work());
        thread.Start();
        thread.Join();
        return result;
    }

    [Fact]
    public void The_reconcilers_fingerprint_index_builds_on_the_store_and_matches_the_model()
    {
        using var t = new TempStore();
        var r = new Random(5);
        var rows = Enumerable.Range(0, 1500).Select(i => new IngestItem(Pubsubs[i % 3], TempStore.Message(Contents[i % 2], r.Next(0, 400) * 1000L, $"f{i}"))).ToList();
        t.Store.Ingest(rows);
        var scope = new SyncScope([Pubsubs[0], Pubsubs[2]], [Contents[1]]);
        var model = rows.Where(x => x.PubsubTopic != Pubsubs[1] && x.Message.ContentTopic == Contents[1])
            .Select(x => new SyncItem(x.Message.Timestamp, MessageHash.Compute(x.PubsubTopic, x.Message))).Order().ToArray();

        var index = FingerprintIndex.Build(t.Store.SyncItems(scope));
        Assert.Equal(model.Length, index.Count);
        var from = SyncItem.At(100_000);
        var to = SyncItem.At(300_000);
        var part = model.Where(i => i >= from && i < to).ToArray();
        Assert.Equal(Fingerprint.Of(part), index.GetFingerprint(from, to));
    }
}
