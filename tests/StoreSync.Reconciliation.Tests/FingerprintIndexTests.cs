using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Testing;

namespace StoreSync.Reconciliation.Tests;

public class FingerprintIndexTests
{
    static Fingerprint Naive(IEnumerable<SyncItem> items, SyncItem from, SyncItem to) =>
        items.Where(x => x >= from && x < to).Aggregate(Fingerprint.Empty, (f, x) => f.Add(x.Hash));

    /// <summary>One insert, or a removal of the model's item at <see cref="Pick"/> (modulo its size); then, if any, range queries.</summary>
    public sealed record Step(bool Remove, int Pick, SyncItem Item, (SyncItem From, SyncItem To)[] Queries);

    /// <summary>A block size, a time span (small spans force equal timestamps) and the operations.</summary>
    public sealed record IndexCase(int Block, long Span, Step[] Steps)
    {
        public override string ToString() => $"block {Block}, span {Span}, {Steps.Length} steps: " +
            string.Join("; ", Steps.Take(20).Select(s => s.Remove ? $"remove #{s.Pick}" : $"insert {s.Item}")) + (Steps.Length > 20 ? "; ..." : "");
    }

    static Arbitrary<IndexCase> IndexCases()
    {
        static Gen<(SyncItem, SyncItem)> Query(long span) =>
            from a in TestItems.Item(-1, span + 1)
            from same in Gen.Choose(0, 3)
            from other in TestItems.Item(-1, span + 1)
            let b = same == 0 ? a : other
            select b < a ? (b, a) : (a, b);
        static Gen<Step> Step(long span) =>
            from remove in Gen.Choose(0, 2)
            from pick in Gen.Choose(0, int.MaxValue)
            from item in TestItems.Item(0, span)
            from queries in Gen.Frequency((24, Gen.Constant(Array.Empty<(SyncItem, SyncItem)>())), (1, Gen.ArrayOf(Query(span), 8)))
            select new Step(remove == 0, pick, item, queries);
        var cases =
            from blockBits in Gen.Choose(0, 3)
            from timeBits in Gen.Choose(0, 19)
            let span = 1L << (2 + timeBits)
            from steps in Gen.ArrayOf(Step(span), 600)
            select new IndexCase(4 << blockBits, span, steps);
        return Arb.From(cases, c => Shrinks.Removals(c.Steps).Select(steps => c with { Steps = steps }));
    }

    [Property(MaxTest = 60)]
    public Property Random_inserts_and_deletes_match_a_naive_model() => Prop.ForAll(IndexCases(), c =>
    {
        var source = new MemorySyncItemSource(blockSize: c.Block);
        var model = new SortedSet<SyncItem>();
        foreach (var step in c.Steps)
        {
            if (model.Count > 0 && step.Remove)
            {
                var victim = model.ElementAt(step.Pick % model.Count);
                Assert.True(source.Remove(victim));
                model.Remove(victim);
            }
            else
            {
                Assert.Equal(model.Add(step.Item), source.Insert(step.Item));
            }
            if (step.Queries.Length > 0)
            {
                Assert.Equal(model.Count, source.Count);
                foreach (var (a, b) in step.Queries)
                {
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
    });

    [Property(MaxTest = 40)]
    public void Runs_of_inserts_up_and_down_with_deletes_match_a_naive_model(int seed)
    {
        // Runs land in the gaps between blocks (appended, prepended, new blocks); deletes make the blocks' last timestamps stale
        // bounds; random inserts among them split blocks. Each checked against the sorted set.
        var rng = new Random(seed);
        int block = 4 << rng.Next(4);
        var source = new MemorySyncItemSource(blockSize: block);
        var model = new SortedSet<SyncItem>();
        for (int run = 0; run < 12; run++)
        {
            long at = rng.Next(0, 1 << 20);
            int length = rng.Next(1, 400), direction = rng.Next(2) == 0 ? -1 : 1, gap = rng.Next(1, 4);
            for (int i = 0; i < length; i++)
            {
                var item = rng.Next(10) == 0 ? TestItems.RandomItem(rng, 0, 1 << 20) : new SyncItem(at + direction * i * gap, TestItems.RandomHash(rng));
                Assert.Equal(model.Add(item), source.Insert(item));
                if (model.Count > 0 && rng.Next(8) == 0)
                {
                    var victim = model.ElementAt(rng.Next(model.Count));
                    Assert.True(source.Remove(victim));
                    model.Remove(victim);
                }
            }
            Assert.Equal(model.Count, source.Count);
            for (int q = 0; q < 8; q++)
            {
                var x = TestItems.RandomItem(rng, -1, (1 << 20) + 1);
                var y = TestItems.RandomItem(rng, -1, (1 << 20) + 1);
                if (y < x) (x, y) = (y, x);
                Assert.Equal(Naive(model, x, y), source.GetFingerprint(x, y));
                Assert.Equal(model.Count(z => z < x), source.Rank(x));
            }
        }
        Assert.Equal(Naive(model, SyncItem.MinValue, SyncItem.MaxValue), source.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue));
    }

    [Fact]
    public void Inserts_newest_first_or_appended_read_nothing_from_the_store()
    {
        // A backfill stores each slice newest first, a live node appends: both land in the gaps between blocks, so keeping the
        // index costs no store read. An insert inside a full block still splits it by reading it.
        var rng = new Random(5);
        var store = new CountingStore();
        var index = new FingerprintIndex(store);
        void Add(SyncItem x) { if (store.Items.Add(x)) index.Insert(x); }
        for (int slice = 0; slice < 8; slice++)
            for (int i = 0; i < 5_000; i++) Add(new SyncItem(slice * 1_000_000L + 900_000 - i * 100, TestItems.RandomHash(rng)));
        for (int i = 0; i < 5_000; i++) Add(new SyncItem(10_000_000L + i * 100, TestItems.RandomHash(rng)));
        Assert.Equal(0, store.Reads);
        Assert.True(index.BlockCount <= 45_000 / FingerprintIndex.DefaultBlockSize + 20, $"{index.BlockCount} blocks for 45,000 items");
        var all = store.Items.ToArray();
        Assert.Equal(Fingerprint.Of(all), index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue));
        Assert.Equal(Fingerprint.Of(all.AsSpan(1_000, 20_000)), index.GetFingerprint(all[1_000], all[21_000]));
        store.Reads = 0;
        for (int i = 0; i < 2_000; i++) Add(all[rng.Next(all.Length - 1)] with { Hash = TestItems.RandomHash(rng) });
        Assert.True(store.Reads > 0);
        Assert.Equal(Fingerprint.Of(store.Items.ToArray()), index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue));
    }

    [Property(MaxTest = 40)]
    public void Batches_stored_at_once_match_a_naive_model(int seed)
    {
        // The store holds a whole batch before the index hears of it (InsertMany): runs between blocks are added at once, and
        // a split caused by an item inside a block must leave out the batch's items not added yet. Runs up and down, scattered
        // items, deletes in between.
        var rng = new Random(seed);
        int block = 4 << rng.Next(4);
        var store = new CountingStore();
        var index = new FingerprintIndex(store, block);
        for (int round = 0; round < 30; round++)
        {
            long at = rng.Next(0, 1 << 20);
            int length = rng.Next(1, 600), gap = rng.Next(1, 4), direction = rng.Next(2) == 0 ? -1 : 1;
            var batch = new List<SyncItem>();
            for (int i = 0; i < length; i++)
            {
                var x = rng.Next(4) == 0 ? TestItems.RandomItem(rng, 0, 1 << 20) : new SyncItem(at + direction * i * gap, TestItems.RandomHash(rng));
                if (store.Items.Add(x)) batch.Add(x);
            }
            index.InsertMany([.. batch.OrderBy(_ => rng.Next())]);
            for (int i = 0; i < rng.Next(0, 40) && store.Items.Count > 0; i++)
            {
                var victim = store.Items.ElementAt(rng.Next(store.Items.Count));
                store.Items.Remove(victim);
                index.Remove(victim);
            }
            Assert.Equal(store.Items.Count, index.Count);
            for (int q = 0; q < 6; q++)
            {
                var x = TestItems.RandomItem(rng, -1, (1 << 20) + 1);
                var y = TestItems.RandomItem(rng, -1, (1 << 20) + 1);
                if (y < x) (x, y) = (y, x);
                Assert.Equal(Naive(store.Items, x, y), index.GetFingerprint(x, y));
            }
        }
        Assert.Equal(Fingerprint.Of(store.Items.ToArray()), index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue));
    }

    [Fact]
    public void A_backfill_s_batches_newest_first_read_nothing_from_the_store()
    {
        // Swarm backfill stores each slice newest first, in batches whose items the store reports in ascending order.
        var rng = new Random(9);
        var store = new CountingStore();
        var index = new FingerprintIndex(store);
        for (int slice = 0; slice < 4; slice++)
            for (int batch = 0; batch < 20; batch++)
            {
                long top = slice * 10_000_000L + 9_000_000 - batch * 512 * 100;
                var items = Enumerable.Range(0, 512).Select(i => new SyncItem(top - (511 - i) * 100, TestItems.RandomHash(rng))).ToArray();
                foreach (var x in items) store.Items.Add(x);
                index.InsertMany(items);
            }
        Assert.Equal(0, store.Reads);
        Assert.Equal(4 * 20 * 512, index.Count);
        Assert.Equal(4 * 20 * 512 / FingerprintIndex.DefaultBlockSize, index.BlockCount);
        Assert.Equal(Fingerprint.Of(store.Items.ToArray()), index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue));
    }

    [Fact]
    public void Three_fronts_filling_adjacent_slices_newest_first_in_small_batches_read_almost_nothing()
    {
        // A 3-peer swarm backfill: each peer fills its slices newest first, batches of 1–100 items interleave, and a slice's
        // first batch lands in a wide gap between other peers' fronts. A run must not join a neighbour across such a gap (its
        // block would then span what the other front fills later, each of those items an insert inside a block).
        var rng = new Random(11);
        var store = new CountingStore();
        var index = new FingerprintIndex(store);
        const int Slices = 12, PerSlice = 3_000;
        const long Width = 10_000_000, Spacing = Width / PerSlice;
        var fronts = new int[Slices];
        var order = Enumerable.Range(0, Slices).ToList();
        int added = 0;
        while (added < Slices * PerSlice)
        {
            // Three peers at once: the next unfinished slices of peer p are p, p + 3, p + 6, ...
            for (int peer = 0; peer < 3; peer++)
            {
                int slice = order.Where(k => k % 3 == peer && fronts[k] < PerSlice).DefaultIfEmpty(-1).First();
                if (slice < 0) continue;
                int n = Math.Min(rng.Next(1, 101), PerSlice - fronts[slice]);
                var batch = Enumerable.Range(fronts[slice], n)
                    .Select(i => new SyncItem(slice * Width + Width - 1 - i * Spacing, TestItems.RandomHash(rng))).ToArray();
                fronts[slice] += n;
                added += n;
                foreach (var x in batch) store.Items.Add(x);
                index.InsertMany(batch);
            }
        }
        Assert.Equal(Slices * PerSlice, index.Count);
        Assert.Equal(Fingerprint.Of(store.Items.ToArray()), index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue));
        Assert.True(store.Reads <= 8 * Slices, $"{store.Reads} block reads for {Slices} slices"); // 456 when a run joined a block across any gap
        Assert.True(index.BlockCount <= 2 * Slices * PerSlice / FingerprintIndex.DefaultBlockSize, $"{index.BlockCount} blocks");
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

    /// <summary>An ordered store with O(log n) insert and delete that counts the items it hands out.</summary>
    sealed class CountingStore : IOrderedSyncItems
    {
        public readonly SortedSet<SyncItem> Items = [];
        public long ItemsRead, Reads;

        public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination)
        {
            Reads++;
            if (from >= to) return 0;
            int n = 0;
            foreach (var x in Items.GetViewBetween(from, to))
            {
                if (x >= to || n == destination.Length) break;
                destination[n++] = x;
            }
            ItemsRead += n;
            return n;
        }
    }

    [Fact]
    public void A_range_fingerprint_reads_a_bounded_number_of_items_whatever_the_range()
    {
        var rng = new Random(11);
        var store = new CountingStore();
        for (int i = 0; i < 100_000; i++) store.Items.Add(TestItems.RandomItem(rng, 0, 1L << 40));
        var index = FingerprintIndex.Build(store);
        var model = store.Items.ToArray();
        // Updates in between, so blocks of every size (split, merged) are crossed.
        for (int i = 0; i < 20_000; i++)
        {
            if (i % 2 == 0) { var x = TestItems.RandomItem(rng, 0, 1L << 40); if (store.Items.Add(x)) index.Insert(x); }
            else { var x = model[rng.Next(model.Length)]; if (store.Items.Remove(x)) index.Remove(x); }
        }
        model = store.Items.ToArray();
        long worst = 0;
        for (int q = 0; q < 400; q++)
        {
            // From one-item ranges to the whole store.
            int i = rng.Next(model.Length), j = q % 4 == 0 ? model.Length - 1 : Math.Min(model.Length - 1, i + rng.Next(1 << (q % 17)));
            var from = model[i];
            var to = model[j].Successor();
            store.ItemsRead = 0;
            var fp = index.GetFingerprint(from, to);
            Assert.Equal(j - i + 1, fp.Count);
            Assert.Equal(Fingerprint.Of(model.AsSpan(i, j - i + 1)), fp);
            worst = Math.Max(worst, store.ItemsRead);
        }
        // Two prefixes, each scanning at most the one block holding its bound (≤ 2 × block size items).
        Assert.True(worst <= 2 * 2 * FingerprintIndex.DefaultBlockSize, $"{worst} items read for one range fingerprint");
    }

    [Fact]
    public void Memory_stays_under_16_bytes_per_item_through_inserts_and_deletes()
    {
        var rng = new Random(3);
        var store = new CountingStore();
        for (int i = 0; i < 100_000; i++) store.Items.Add(TestItems.RandomItem(rng, 0, long.MaxValue / 2));
        var index = FingerprintIndex.Build(store);
        var items = store.Items.ToArray();
        Assert.True(index.MemoryBytes <= 16.0 * store.Items.Count, $"built: {index.MemoryBytes} bytes for {store.Items.Count} items");
        for (int i = 0; i < 10_000; i++) { var x = TestItems.RandomItem(rng, 0, long.MaxValue / 2); if (store.Items.Add(x)) index.Insert(x); }
        // Delete every other item: blocks shrink to half and merge with their successor below a quarter.
        for (int i = 0; i < items.Length; i += 2) { store.Items.Remove(items[i]); index.Remove(items[i]); }
        Assert.Equal(store.Items.Count, index.Count);
        Assert.True(index.MemoryBytes <= 16.0 * store.Items.Count, $"{index.MemoryBytes} bytes for {store.Items.Count} items ({index.BlockCount} blocks)");
        Assert.Equal(Fingerprint.Of(store.Items.ToArray()), index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue));
        // Retention evicts the oldest 95 %: the node array shrinks with the blocks.
        var left = store.Items.ToArray();
        foreach (var x in left.Take(left.Length * 95 / 100)) { store.Items.Remove(x); index.Remove(x); }
        Assert.True(index.MemoryBytes <= 16.0 * store.Items.Count, $"after eviction: {index.MemoryBytes} bytes for {store.Items.Count} items");
        var rest = store.Items.ToArray();
        Assert.Equal(Fingerprint.Of(rest), index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue));
        Assert.Equal(Fingerprint.Of(rest.AsSpan(10, 500)), index.GetFingerprint(rest[10], rest[510]));
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
