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
    public void Items_carrying_their_hashes_are_stored_as_items_the_store_hashes_itself()
    {
        // The ingress paths hash each message to judge it and hand the hash on, so the store does not hash it again.
        using var hashing = new TempStore();
        using var given = new TempStore();
        var items = Enumerable.Range(0, 600).Select(i => Item(i)).ToList();
        var carrying = items.Select(x => x with { Hash = MessageHash.Compute(x.PubsubTopic, x.Message) }).ToList();
        var expected = hashing.Store.Ingest(items);
        var result = given.Store.Ingest(carrying.Concat(carrying.Take(50)).ToList());
        Assert.Equal(600, result.Inserted);
        Assert.Equal(50, result.Duplicates);
        Assert.Equal(expected.InsertedHashes.ToHashSet(), result.InsertedHashes.ToHashSet());
        foreach (var item in carrying) Assert.True(given.Store.Contains(item.Hash!.Value));
        Assert.Empty(StoreIntegrity.Check(given.Store));
    }

    [Fact]
    public void Hashes_in_sst_files_in_the_memtable_and_nowhere_are_told_apart_in_any_batch_order()
    {
        // The duplicate lookup sorts the batch's hashes before asking RocksDB and maps each answer back to its message: a wrong
        // mapping would store a duplicate or drop a new message. Shuffled batches, stored hashes both flushed and in the memtable.
        using var t = new TempStore();
        var flushed = Enumerable.Range(0, 2000).Select(i => Item(i)).ToList();
        Assert.Equal(2000, t.Store.Ingest(flushed).Inserted);
        t.Store.CompactAll();
        var inMemtable = Enumerable.Range(2000, 1000).Select(i => Item(i)).ToList();
        Assert.Equal(1000, t.Store.Ingest(inMemtable).Inserted);
        var random = new Random(5);
        int next = 3000;
        for (int round = 0; round < 5; round++)
        {
            var fresh = Enumerable.Range(next, 300).Select(i => Item(i, round % 2 == 0 ? Pubsub : "/waku/2/rs/1/1")).ToList();
            next += 300;
            var batch = flushed.OrderBy(_ => random.Next()).Take(300).Concat(inMemtable.OrderBy(_ => random.Next()).Take(300))
                .Concat(fresh).Concat(fresh.Take(100)).OrderBy(_ => random.Next()).ToList();
            var expected = new List<MessageHash>();
            var seen = fresh.Select(x => MessageHash.Compute(x.PubsubTopic, x.Message)).ToHashSet();
            foreach (var item in batch)
            {
                var hash = MessageHash.Compute(item.PubsubTopic, item.Message);
                if (seen.Remove(hash)) expected.Add(hash);
            }
            var result = t.Store.Ingest(batch);
            Assert.Equal(expected, result.InsertedHashes); // the first of each new message, in batch order
            Assert.Equal(batch.Count - 300, result.Duplicates);
        }
        Assert.Equal(3000 + 5 * 300, t.Store.GetStatistics().Messages);
        Assert.Empty(StoreIntegrity.Check(t.Store));
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
