using FsCheck;
using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>The store as the reconciler's ordered item source equals a sorted in-memory model, scope by scope and range by range.</summary>
public class StoreSyncItemsProperties
{
    static readonly string[] Pubsubs = ["/waku/2/rs/1/0", "/waku/2/rs/1/1", "/waku/2/rs/1/2"];
    static readonly string[] Contents = ["/app/1/a/proto", "/app/1/b/proto", "/app/1/c/proto"];

    static SyncScope RandomScope(Random r) => new(
        Pubsubs.Append("/waku/2/unknown").Where(_ => r.Next(3) == 0).ToArray(),
        Contents.Append("/app/1/unknown/proto").Where(_ => r.Next(3) == 0).ToArray());

    [Property(MaxTest = 40)]
    public void Reads_of_any_range_in_any_chunk_size_equal_the_model(PositiveInt seed)
    {
        var r = new Random(seed.Get);
        using var t = new TempStore();
        var rows = Enumerable.Range(0, r.Next(0, 200)).Select(i =>
        {
            var pubsub = Pubsubs[r.Next(Pubsubs.Length)];
            var m = TempStore.Message(Contents[r.Next(Contents.Length)], r.Next(-5, 30) * 100L, $"s{i}-{r.Next()}");
            return (Pubsub: pubsub, Content: m.ContentTopic, Item: new SyncItem(m.Timestamp, MessageHash.Compute(pubsub, m)), Message: m);
        }).ToList();
        t.Store.Ingest(rows.Select(x => new IngestItem(x.Pubsub, x.Message)).ToList());

        for (int q = 0; q < 6; q++)
        {
            var scope = RandomScope(r);
            var items = t.Store.SyncItems(scope);
            var inScope = rows.Where(x => (scope.PubsubTopics.Count == 0 || scope.PubsubTopics.Contains(x.Pubsub))
                                          && (scope.ContentTopics.Count == 0 || scope.ContentTopics.Contains(x.Content)))
                .Select(x => x.Item).Order().ToList();
            var bounds = new[] { SyncItem.MinValue, SyncItem.MaxValue, SyncItem.At(r.Next(-6, 31) * 100L), SyncItem.At(r.Next(-6, 31) * 100L) }
                .Concat(inScope.Count > 0 ? [inScope[r.Next(inScope.Count)], inScope[r.Next(inScope.Count)]] : []).ToList();
            var from = bounds[r.Next(bounds.Count)];
            var to = bounds[r.Next(bounds.Count)];
            var expected = inScope.Where(i => i >= from && i < to).ToList();

            // Paged in chunks as a reconciler does: each next read starts at the successor of the last item.
            var walked = new List<SyncItem>();
            var chunk = new SyncItem[r.Next(1, 9)];
            var at = from;
            while (at < to)
            {
                int n = items.Read(at, to, chunk);
                for (int i = 0; i < n; i++) walked.Add(chunk[i]);
                if (n < chunk.Length) break;
                at = chunk[n - 1].Successor();
            }
            Assert.Equal(expected, walked);
        }
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
