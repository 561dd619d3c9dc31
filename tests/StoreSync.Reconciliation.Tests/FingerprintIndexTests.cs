using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Reconciliation;

namespace StoreSync.Reconciliation.Tests;

public class FingerprintIndexTests
{
    static Fingerprint Naive(IEnumerable<SyncItem> items, SyncItem from, SyncItem to) =>
        items.Where(x => x >= from && x < to).Aggregate(Fingerprint.Empty, (f, x) => f.Add(x.Hash));

    [Property(MaxTest = 60)]
    public void Random_inserts_and_deletes_match_a_naive_model(int seed, byte blockBits, byte timeBits)
    {
        var rng = new Random(seed);
        int block = 4 << (blockBits % 4);
        long span = 1L << (2 + timeBits % 20); // small spans force equal timestamps
        var source = new MemorySyncItemSource(blockSize: block);
        var model = new SortedSet<SyncItem>();
        for (int op = 0; op < 600; op++)
        {
            if (model.Count > 0 && rng.Next(3) == 0)
            {
                var victim = model.ElementAt(rng.Next(model.Count));
                Assert.True(source.Remove(victim));
                model.Remove(victim);
            }
            else
            {
                var item = TestItems.RandomItem(rng, 0, span);
                Assert.Equal(model.Add(item), source.Insert(item));
            }
            if (op % 25 == 0)
            {
                Assert.Equal(model.Count, source.Count);
                for (int q = 0; q < 8; q++)
                {
                    var a = TestItems.RandomItem(rng, -1, span + 1);
                    var b = rng.Next(4) == 0 ? a : TestItems.RandomItem(rng, -1, span + 1);
                    if (b < a) (a, b) = (b, a);
                    Assert.Equal(Naive(model, a, b), source.GetFingerprint(a, b));
                    Assert.Equal(model.Count(x => x < a), source.Rank(a));
                }
                Assert.Equal(Naive(model, SyncItem.MinValue, SyncItem.MaxValue), source.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue));
            }
        }
        // Draining everything leaves an empty index that still answers.
        foreach (var item in model.ToList()) source.Remove(item);
        Assert.Equal(0, source.Count);
        Assert.Equal(Fingerprint.Empty, source.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue));
    }

    [Fact]
    public void Rebuilt_and_reloaded_indexes_answer_like_the_incremental_one()
    {
        var rng = new Random(7);
        var source = new MemorySyncItemSource(blockSize: 8);
        for (int i = 0; i < 5000; i++) source.Insert(TestItems.RandomItem(rng, 0, 1_000_000));
        var store = SortedSyncItems.FromSorted(source.Items.ToArray(), (int)source.Count);
        var rebuilt = FingerprintIndex.Build(store, 8);
        using var buffer = new MemoryStream();
        source.Index.Save(buffer);
        buffer.Position = 0;
        var loaded = FingerprintIndex.Load(store, buffer);
        Assert.Equal(source.Index.BlockCount, loaded.BlockCount);
        for (int q = 0; q < 200; q++)
        {
            var a = TestItems.RandomItem(rng, 0, 1_000_000);
            var b = TestItems.RandomItem(rng, 0, 1_000_000);
            if (b < a) (a, b) = (b, a);
            var expected = source.GetFingerprint(a, b);
            Assert.Equal(expected, rebuilt.GetFingerprint(a, b));
            Assert.Equal(expected, loaded.GetFingerprint(a, b));
        }
        // Updates keep working on a loaded index.
        var extra = TestItems.RandomItem(rng, 0, 1_000_000);
        store.Insert(extra);
        loaded.Insert(extra);
        Assert.Equal(source.Count + 1, loaded.Count);
    }

    [Fact]
    public void Memory_stays_under_16_bytes_per_item()
    {
        var rng = new Random(3);
        var items = Enumerable.Range(0, 200_000).Select(_ => TestItems.RandomItem(rng, 0, long.MaxValue / 2)).ToArray();
        var source = new MemorySyncItemSource(items);
        for (int i = 0; i < 20_000; i++) source.Insert(TestItems.RandomItem(rng, 0, long.MaxValue / 2));
        for (int i = 0; i < 100_000; i++) source.Remove(items[i]);
        Assert.True(source.Index.BlockCount * 128.0 / source.Count <= 16, $"{source.Index.BlockCount} blocks for {source.Count} items");
    }

    [Fact]
    public void Corrupt_serialised_index_is_rejected()
    {
        var store = new SortedSyncItems();
        Assert.Throws<InvalidDataException>(() => FingerprintIndex.Load(store, new MemoryStream(new byte[16])));
        using var truncated = new MemoryStream();
        var source = new MemorySyncItemSource([new SyncItem(1, MessageHash.Max)]);
        source.Index.Save(truncated);
        Assert.Throws<EndOfStreamException>(() => FingerprintIndex.Load(store, new MemoryStream(truncated.ToArray()[..^3])));
    }
}
