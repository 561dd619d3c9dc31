using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Simulations.Storage;
using StoreSync.Testing;

namespace StoreSync.Simulations.Tests;

/// <summary>The simulator's chunked item store against the engine's sorted array (the reference model).</summary>
public class ChunkedSyncItemsTests
{
    static SyncItem Item(Random rng, long span) =>
        new(rng.NextInt64(0, span), new MessageHash((ulong)rng.NextInt64(), (ulong)rng.NextInt64(), 0, (ulong)rng.Next(4)));

    /// <summary>A range read: both bounds' timestamps are reduced modulo the span in use when it runs.</summary>
    public sealed record Query(ulong FromTime, MessageHash FromHash, ulong ToTime, MessageHash ToHash, int Limit);

    /// <summary>A removal of the model's item at <see cref="Pick"/> (modulo its size), or an insert: appended <see cref="Advance"/>
    /// after the newest, or anywhere in the span; then, if any, range reads.</summary>
    public sealed record Step(bool Remove, bool Append, int Pick, int Advance, ulong Time, MessageHash Hash, Query[] Queries);

    /// <summary>A time span (small spans give many equal timestamps), whether live traffic mostly appends, and the operations.</summary>
    public sealed record ChunkCase(long Span, bool AppendMostly, Step[] Steps)
    {
        public override string ToString() => $"span {Span}, append mostly {AppendMostly}, {Steps.Length} steps, {Steps.Count(s => s.Queries.Length > 0)} with reads";
    }

    static readonly Gen<ulong> Word = Gen.Choose(int.MinValue, int.MaxValue).Select(i => (ulong)(uint)i);
    static readonly Gen<ulong> UInt64 = from hi in Word from lo in Word select hi << 32 | lo;
    static readonly Gen<MessageHash> Hash = from a in UInt64 from b in UInt64 from d in Gen.Choose(0, 3) select new MessageHash(a, b, 0, (ulong)d);

    static Arbitrary<ChunkCase> ChunkCases()
    {
        var query = from ft in UInt64 from fh in Hash from tt in UInt64 from th in Hash from limit in Gen.Choose(1, 699) select new Query(ft, fh, tt, th, limit);
        var step =
            from remove in Gen.Choose(0, 4)
            from append in Gen.Choose(0, 3)
            from pick in Gen.Choose(0, int.MaxValue)
            from advance in Gen.Choose(0, 2)
            from time in UInt64
            from hash in Hash
            from queries in Gen.Frequency((96, Gen.Constant(Array.Empty<Query>())), (1, Gen.ArrayOf(query, 6)))
            select new Step(remove == 0, append > 0, pick, advance, time, hash, queries);
        var cases =
            from shape in Gen.Choose(0, 255)
            from steps in Gen.ArrayOf(step, 3000)
            select new ChunkCase(1L << (3 + shape % 24), shape % 2 == 0, steps); // live traffic appends; sync inserts anywhere
        return Arb.From(cases, c => Shrinks.Removals(c.Steps).Select(steps => c with { Steps = steps }));
    }

    [Property(MaxTest = 40)]
    public Property Inserts_removes_and_reads_match_a_sorted_array() => Prop.ForAll(ChunkCases(), c =>
    {
        var chunked = new ChunkedSyncItems();
        var model = new SortedSyncItems();
        long clock = 0;
        var buffer = new SyncItem[700];
        var expected = new SyncItem[700];
        foreach (var step in c.Steps)
        {
            if (model.Count > 0 && step.Remove)
            {
                var victim = model.Items[step.Pick % model.Count];
                Assert.True(chunked.Remove(victim));
                model.Remove(victim);
                Assert.False(chunked.Remove(victim));
            }
            else
            {
                var item = c.AppendMostly && step.Append ? new SyncItem(clock += step.Advance, step.Hash) : new SyncItem((long)(step.Time % (ulong)c.Span), step.Hash);
                Assert.Equal(model.Insert(item), chunked.Insert(item));
            }
            if (step.Queries.Length > 0)
            {
                Assert.Equal(model.Count, chunked.Count);
                ulong span = (ulong)Math.Max(c.Span, clock + 1);
                foreach (var q in step.Queries)
                {
                    var a = new SyncItem((long)(q.FromTime % span), q.FromHash);
                    var b = new SyncItem((long)(q.ToTime % span), q.ToHash);
                    if (b < a) (a, b) = (b, a);
                    int got = chunked.Read(a, b, buffer.AsSpan(0, q.Limit));
                    int want = model.Read(a, b, expected.AsSpan(0, q.Limit));
                    Assert.Equal(want, got);
                    Assert.True(buffer.AsSpan(0, got).SequenceEqual(expected.AsSpan(0, want)));
                }
                if (model.Count > 0) Assert.Equal(model.Items[0], chunked.Oldest);
            }
        }
    });

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
