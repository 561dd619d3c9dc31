using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Reconciliation;
using StoreSync.Storage;
using StoreSync.Storage.Tests;
using StoreSync.Waku.Sync;

namespace StoreSync.Waku.Tests;

/// <summary>The live sync index equals a simple model (the sorted set of stored items) through inserts, deletes and writes during its build.</summary>
public sealed class SyncIndexTests
{
    const string Topic = "/waku/2/rs/1/0", Other = "/waku/2/rs/1/1";
    static readonly long T0 = Timestamp.Now() - TimeSpan.FromDays(10).Ticks * 100;

    static WakuMessage Message(Random rng, long span, int i) =>
        TempStore.Message($"/app/1/c{rng.Next(2)}/proto", T0 + rng.NextInt64(span), $"m{i}-{rng.Next()}");

    static void AssertMatches(ISyncItemSource index, SortedSet<SyncItem> model, Random rng)
    {
        Assert.Equal(model.Count, index.Count);
        var items = model.ToArray();
        for (int k = 0; k < 60; k++)
        {
            SyncItem Bound() => items.Length > 0 && rng.Next(3) > 0 ? items[rng.Next(items.Length)] : SyncItem.At(T0 + rng.NextInt64(-5, 2_000));
            var (from, to) = (Bound(), Bound());
            if (from > to) (from, to) = (to, from);
            var expected = Fingerprint.Of(model.GetViewBetween(from, to).Where(x => x < to).ToArray());
            Assert.Equal(expected, index.GetFingerprint(from, to));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Inserts_and_deletes_in_batches_keep_the_index_equal_to_the_model(int seed)
    {
        var rng = new Random(seed);
        using var t = new TempStore();
        var model = new SortedSet<SyncItem>();
        var index = SyncIndex.Create(t.Store, Topic, contentTopics: []);
        // A narrow time span packs many items per block, so batches split and merge blocks while the store already holds them.
        long span = seed == 1 ? 1_000 : 50;
        int next = 0;
        for (int round = 0; round < 40; round++)
        {
            if (rng.Next(3) > 0 || model.Count < 50)
            {
                var batch = Enumerable.Range(0, rng.Next(1, 600)).Select(_ => (Topic: rng.Next(5) == 0 ? Other : Topic, Message: Message(rng, span, next++))).ToList();
                t.Store.Ingest(batch.Select(m => new IngestItem(m.Topic, m.Message)).ToList());
                foreach (var m in batch.Where(m => m.Topic == Topic)) model.Add(new SyncItem(m.Message.Timestamp, MessageHash.Compute(m.Topic, m.Message)));
            }
            else if (rng.Next(2) == 0)
            {
                var victims = model.Where(_ => rng.Next(3) == 0).ToList();
                t.Store.Delete(victims.Select(v => v.Hash).ToList());
                model.ExceptWith(victims);
            }
            else
            {
                long from = T0 + rng.NextInt64(span), to = from + rng.NextInt64(span / 3 + 1);
                t.Store.DeleteRange(Topic, null, from, to);
                model.RemoveWhere(x => x.Timestamp >= from && x.Timestamp <= to);
            }
            AssertMatches(index, model, rng);
        }
    }

    [Fact]
    public async Task Writes_during_the_build_are_neither_lost_nor_counted_twice()
    {
        var rng = new Random(9);
        using var t = new TempStore();
        t.Store.Ingest(Enumerable.Range(0, 30_000).Select(i => new IngestItem(Topic, Message(rng, 1_000_000, i))).ToList());
        using var stop = new CancellationTokenSource();
        var writerRng = new Random(10);
        int written = 0;
        var writer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested && written < 20_000)
            {
                t.Store.Ingest(Enumerable.Range(0, 20).Select(i => new IngestItem(Topic, Message(writerRng, 1_000_000, 100_000 + written + i))).ToList());
                written += 20;
            }
        });
        SyncIndex index;
        try { index = SyncIndex.Create(t.Store, Topic); }
        finally { await Task.Delay(50); stop.Cancel(); await writer; }
        Assert.True(written > 0);

        var model = new SortedSet<SyncItem>();
        using (var reader = t.Store.OpenTimeIndex(Topic, long.MinValue, MessageHash.Zero, forward: true))
            while (reader.MoveNext()) model.Add(new SyncItem(reader.Current.Timestamp, reader.Current.Hash));
        AssertMatches(index, model, rng);
    }

    [Fact]
    public void A_content_topic_scope_counts_only_its_content_topics()
    {
        var rng = new Random(4);
        using var t = new TempStore();
        var messages = Enumerable.Range(0, 500).Select(i => Message(rng, 10_000, i)).ToList();
        t.Store.Ingest(messages.Take(300).Select(m => new IngestItem(Topic, m)).ToList());
        var index = SyncIndex.Create(t.Store, Topic, ["/app/1/c1/proto"]);
        t.Store.Ingest(messages.Skip(300).Select(m => new IngestItem(Topic, m)).ToList());
        var model = new SortedSet<SyncItem>(messages.Where(m => m.ContentTopic == "/app/1/c1/proto").Select(m => new SyncItem(m.Timestamp, MessageHash.Compute(Topic, m))));
        AssertMatches(index, model, rng);
    }
}
