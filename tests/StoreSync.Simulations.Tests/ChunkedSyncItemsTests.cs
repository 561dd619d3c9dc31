using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Simulations.Storage;

namespace StoreSync.Simulations.Tests;

/// <summary>The simulator's chunked item store against the engine's sorted array (the reference model).</summary>
public class ChunkedSyncItemsTests
{
    static SyncItem Item(Random rng, long span) =>
        new(rng.NextInt64(0, span), new MessageHash((ulong)rng.NextInt64(), (ulong)rng.NextInt64(), 0, (ulong)rng.Next(4)));

    [Property(MaxTest = 40)]
    public void Inserts_removes_and_reads_match_a_sorted_array(int seed, byte shape)
    {
        var rng = new Random(seed);
        long span = 1L << (3 + shape % 24); // small spans give many equal timestamps
        bool appendMostly = shape % 2 == 0;  // live traffic appends; sync inserts anywhere
        var chunked = new ChunkedSyncItems();
        var model = new SortedSyncItems();
        long clock = 0;
        var buffer = new SyncItem[700];
        var expected = new SyncItem[700];
        for (int op = 0; op < 3000; op++)
        {
            if (model.Count > 0 && rng.Next(5) == 0)
            {
                var victim = model.Items[rng.Next(model.Count)];
                Assert.True(chunked.Remove(victim));
                model.Remove(victim);
                Assert.False(chunked.Remove(victim));
            }
            else
            {
                var item = appendMostly && rng.Next(4) > 0 ? new SyncItem(clock += rng.Next(3), Item(rng, span).Hash) : Item(rng, span);
                Assert.Equal(model.Insert(item), chunked.Insert(item));
            }
            if (op % 97 == 0)
            {
                Assert.Equal(model.Count, chunked.Count);
                for (int q = 0; q < 6; q++)
                {
                    var a = Item(rng, Math.Max(span, clock + 1));
                    var b = Item(rng, Math.Max(span, clock + 1));
                    if (b < a) (a, b) = (b, a);
                    int limit = rng.Next(1, buffer.Length);
                    int got = chunked.Read(a, b, buffer.AsSpan(0, limit));
                    int want = model.Read(a, b, expected.AsSpan(0, limit));
                    Assert.Equal(want, got);
                    Assert.True(buffer.AsSpan(0, got).SequenceEqual(expected.AsSpan(0, want)));
                }
                if (model.Count > 0) Assert.Equal(model.Items[0], chunked.Oldest);
            }
        }
    }

    [Fact]
    public void A_fingerprint_index_over_chunks_answers_like_the_engines_memory_source()
    {
        var rng = new Random(3);
        var chunked = new ChunkedSyncItems();
        var index = new FingerprintIndex(chunked, MemoryNodeStore.BlockSize);
        var reference = new MemorySyncItemSource();
        for (int i = 0; i < 20_000; i++)
        {
            var item = Item(rng, 1_000_000);
            if (chunked.Insert(item)) index.Insert(item);
            reference.Insert(item);
            if (i % 5 == 4)
            {
                var victim = reference.Items[rng.Next((int)reference.Count)];
                reference.Remove(victim);
                Assert.True(chunked.Remove(victim));
                index.Remove(victim);
            }
        }
        Assert.Equal(reference.Count, index.Count);
        for (int q = 0; q < 500; q++)
        {
            var a = Item(rng, 1_000_000);
            var b = Item(rng, 1_000_000);
            if (b < a) (a, b) = (b, a);
            Assert.Equal(reference.GetFingerprint(a, b), index.GetFingerprint(a, b));
            Assert.Equal(reference.Rank(a), index.Rank(a));
        }
    }
}
