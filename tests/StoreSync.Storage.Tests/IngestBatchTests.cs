using StoreSync.Core;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>Large ingest batches: the batched duplicate lookup and the per-family put orders keep every message and index entry.</summary>
public class IngestBatchTests
{
    const string Pubsub = "/waku/2/rs/1/0";

    static IngestItem Item(int i, string pubsub = Pubsub) =>
        new(pubsub, TempStore.Message($"/app/1/c{i % 7}/proto", 1_000_000L + (i * 7919L % 5000), $"m{i}"));

    [Fact]
    public void A_batch_mixing_stored_new_and_repeated_messages_stores_each_new_one_once()
    {
        using var t = new TempStore();
        var first = Enumerable.Range(0, 3000).Select(i => Item(i)).ToList();
        Assert.Equal(3000, t.Store.Ingest(first).Inserted);

        // 1,500 already stored (flushed or not), 1,000 new on two pubsub topics, each new one twice, in shuffled order.
        var fresh = Enumerable.Range(3000, 500).Select(i => Item(i)).Concat(Enumerable.Range(3000, 500).Select(i => Item(i, "/waku/2/rs/1/1"))).ToList();
        var mixed = first.Take(1500).Concat(fresh).Concat(fresh).OrderBy(x => MessageHash.Compute(x.PubsubTopic, x.Message).W3).ToList();
        var result = t.Store.Ingest(mixed);
        Assert.Equal(1000, result.Inserted);
        Assert.Equal(1500 + 1000, result.Duplicates);
        Assert.Equal(fresh.Select(x => MessageHash.Compute(x.PubsubTopic, x.Message)).ToHashSet(), result.InsertedHashes.ToHashSet());

        Assert.Equal(4000, t.Store.GetStatistics().Messages);
        foreach (var item in first.Concat(fresh)) Assert.True(t.Store.Contains(MessageHash.Compute(item.PubsubTopic, item.Message)));
        Assert.Empty(StoreIntegrity.Check(t.Store));
        Assert.Equal(0, t.Store.Ingest(mixed).Inserted);
    }

    [Fact]
    public void Memory_usage_counts_the_memtables_that_hold_new_messages()
    {
        using var t = new TempStore();
        var before = t.Store.GetMemoryUsage();
        t.Store.Ingest(Enumerable.Range(0, 2000).Select(i => Item(i)).ToList());
        var after = t.Store.GetMemoryUsage();
        Assert.True(after.Memtables > before.Memtables, $"{before} -> {after}");
        Assert.True(after.BlockCache >= 0 && after.BlockCachePinned >= 0 && after.TableReaders >= 0, after.ToString());
    }
}
