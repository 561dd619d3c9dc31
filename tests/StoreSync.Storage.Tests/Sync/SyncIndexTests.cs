using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Reconciliation;
using StoreSync.Storage.Retention;
using StoreSync.Storage.Sync;
using StoreSync.Testing;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests.Sync;

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

    // The tape chooses each step and its sizes (so a failure shrinks to few, small steps); a seed drawn from it fills the
    // batches, since they need hundreds of messages to split and merge blocks.
    [Property(MaxTest = 4, Arbitrary = [typeof(ChoiceTapes)])]
    public void Inserts_and_deletes_in_batches_keep_the_index_equal_to_the_model(ChoiceTape tape)
    {
        var rng = new Random(tape.Next());
        using var t = new TempStore();
        var model = new SortedSet<SyncItem>();
        var index = SyncIndex.Create(t.Store, Topic, contentTopics: []);
        // A narrow time span packs many items per block, so batches split and merge blocks while the store already holds them.
        long span = tape.Next(2) == 0 ? 1_000 : 50;
        int next = 0;
        for (int round = 0; round < 40; round++)
        {
            if (tape.Next(3) > 0 || model.Count < 50)
            {
                var batch = Enumerable.Range(0, tape.Next(1, 600)).Select(_ => (Topic: rng.Next(5) == 0 ? Other : Topic, Message: Message(rng, span, next++))).ToList();
                t.Store.Ingest(batch.Select(m => new IngestItem(m.Topic, m.Message)).ToList());
                foreach (var m in batch.Where(m => m.Topic == Topic)) model.Add(new SyncItem(m.Message.Timestamp, MessageHash.Compute(m.Topic, m.Message)));
            }
            else if (tape.Next(2) == 0)
            {
                var victims = model.Where(_ => rng.Next(3) == 0).ToList();
                t.Store.Delete(victims.Select(v => v.Hash).ToList());
                model.ExceptWith(victims);
            }
            else
            {
                long from = T0 + tape.NextInt64(span), to = from + tape.NextInt64(span / 3 + 1);
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
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested && written < 20_000)
            {
                t.Store.Ingest(Enumerable.Range(0, 20).Select(i => new IngestItem(Topic, Message(writerRng, 1_000_000, 100_000 + written + i))).ToList());
                Volatile.Write(ref written, written + 20);
                running.TrySetResult();
            }
        });
        // The writer is already writing when the build starts and goes on after it, so batches land before, during and after
        // the snapshot whatever turns the scheduler gives it (on two loaded cores it may get none within a fixed delay).
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30));
        SyncIndex index;
        int afterBuild;
        try { index = SyncIndex.Create(t.Store, Topic); }
        finally
        {
            afterBuild = Volatile.Read(ref written);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Volatile.Read(ref written) < Math.Min(afterBuild + 200, 20_000) && !writer.IsCompleted && DateTime.UtcNow < deadline) await Task.Delay(5);
            stop.Cancel();
            await writer;
        }
        Assert.True(written > afterBuild || written == 20_000, $"the writer wrote {written}, {afterBuild} of them before the build ended");

        var model = new SortedSet<SyncItem>();
        using (var reader = t.Store.OpenTimeIndex(Topic, long.MinValue, MessageHash.Zero, forward: true))
            while (reader.MoveNext()) model.Add(new SyncItem(reader.Current.Timestamp, reader.Current.Hash));
        AssertMatches(index, model, rng);
    }

    [Fact]
    public async Task Many_batches_queued_during_the_build_are_applied_as_the_store_holds_them_all()
    {
        // The batches written while the index is built are applied after it, with writes paused, when the store already holds
        // every one of them (and lacks every message they deleted): a block read while applying one batch sees the later ones.
        // Dense batches into full blocks split them during that replay.
        var rng = new Random(21);
        using var t = new TempStore();
        t.Store.Ingest(Enumerable.Range(0, 100_000).Select(i => new IngestItem(Topic, Message(rng, 200_000, i))).ToList());
        var stored = new List<MessageHash>();
        using (var reader = t.Store.OpenTimeIndex(Topic, long.MinValue, MessageHash.Zero, forward: true))
            while (reader.MoveNext() && stored.Count < 5_000) stored.Add(reader.Current.Hash);
        using var stop = new CancellationTokenSource();
        var writerRng = new Random(22);
        int batches = 0;
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = Task.Run(() =>
        {
            for (int b = 0; !stop.IsCancellationRequested && b < 2_000; b++)
            {
                t.Store.Ingest(Enumerable.Range(0, 50).Select(i => new IngestItem(Topic, Message(writerRng, 2_000, 1_000_000 + b * 50 + i))).ToList());
                if (b % 4 == 3) t.Store.Delete(stored.Skip(b / 4 * 5 % stored.Count).Take(5).ToList());
                Volatile.Write(ref batches, b + 1);
                running.TrySetResult();
            }
        });
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30));
        SyncIndex index;
        try { index = SyncIndex.Create(t.Store, Topic); }
        finally
        {
            stop.Cancel();
            await writer;
        }
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

    [Fact]
    public void A_tracked_community_scope_is_answered_from_its_own_live_index()
    {
        var rng = new Random(5);
        using var t = new TempStore();
        string[] served = [Topic, Other];
        const string C0 = "/app/1/c0/proto", C1 = "/app/1/c1/proto";
        IngestItem Row(int i) => new(served[rng.Next(2)], Message(rng, 10_000, i));
        var rows = Enumerable.Range(0, 800).Select(Row).ToList();
        t.Store.Ingest(rows.Take(500).ToList());
        var indexes = new SyncIndexes(t.Store, served, limits: SyncIndexLimits.Default with { MaxCommunityIndexes = 2 });
        indexes.Build();
        var community = new SyncScope([Topic, Other, "/waku/2/rs/1/9"], [C0]);

        Assert.IsType<MemorySyncItemSource>(indexes.SourceFor(community)); // not tracked yet: read per session
        Assert.True(indexes.Track(community));
        Assert.Equal(2, indexes.CommunityIndexes.Count); // one per served pubsub topic of the scope
        var source = indexes.SourceFor(new SyncScope([Topic, Other], [C0]));
        Assert.IsNotType<MemorySyncItemSource>(source);
        Assert.IsType<SyncIndex>(indexes.SourceFor(new SyncScope([Other], [C0])));

        // Live: later inserts and deletes are applied.
        t.Store.Ingest(rows.Skip(500).ToList());
        t.Store.Delete(rows.Take(100).Select(r => MessageHash.Compute(r.PubsubTopic, r.Message)).ToList());
        SortedSet<SyncItem> Model(IEnumerable<IngestItem> kept, string? pubsub) => new(kept
            .Where(r => r.Message.ContentTopic == C0 && (pubsub is null || r.PubsubTopic == pubsub))
            .Select(r => new SyncItem(r.Message.Timestamp, MessageHash.Compute(r.PubsubTopic, r.Message))));
        AssertMatches(source, Model(rows.Skip(100), null), rng);
        AssertMatches(indexes.SourceFor(new SyncScope([Other], [C0])), Model(rows.Skip(100), Other), rng);

        // The limit: a further community scope is read per session; a scope of the node's own content topics needs no index.
        Assert.False(indexes.Track(new SyncScope([Topic], [C1])));
        Assert.IsType<MemorySyncItemSource>(indexes.SourceFor(new SyncScope([Topic], [C1])));
        Assert.False(indexes.Track(new SyncScope([Topic], [])));
        Assert.True(indexes.Track(community)); // already tracked: kept
        Assert.Equal(2, indexes.CommunityIndexes.Count);
    }

    [Property(MaxTest = 4, Arbitrary = [typeof(ChoiceTapes)])]
    public void A_community_index_follows_every_insert_and_delete_eviction_included_as_the_model_does(ChoiceTape tape)
    {
        var rng = new Random(tape.Next());
        using var t = new TempStore();
        string[] served = [Topic, Other];
        const string C0 = "/app/1/c0/proto", C2 = "/app/1/c2/proto";
        // Retention keeps the newest 150 of c0 on Topic: its eviction deletes part of the community's messages, never others.
        var evictor = new Evictor(t.Store, new RetentionConfiguration([
            new ScopeRetention(RetentionScope.Of("c0", [Topic], [C0]), [new CountRetentionPolicy(150)])]), new EvictorOptions { RefuseBelowHorizon = false });
        long span = tape.Next(2) == 0 ? 1_000 : 100; // narrow spans pack blocks, so batches split and merge them
        int next = 0;
        IngestItem Row() => new(served[rng.Next(2)], TempStore.Message($"/app/1/c{rng.Next(3)}/proto", T0 + rng.NextInt64(span), $"m{next++}-{rng.Next()}"));
        bool InScope(IngestItem r) => r.Message.ContentTopic is C0 or C2;
        SyncItem ItemOf(IngestItem r) => new(r.Message.Timestamp, MessageHash.Compute(r.PubsubTopic, r.Message));
        var model = new Dictionary<SyncItem, string>(); // item → its pubsub topic

        var first = Enumerable.Range(0, 400).Select(_ => Row()).ToList();
        t.Store.Ingest(first);
        foreach (var r in first.Where(InScope)) model[ItemOf(r)] = r.PubsubTopic;
        var indexes = new SyncIndexes(t.Store, served);
        indexes.Build();
        var community = new SyncScope(served, [C2, C0]);
        Assert.True(indexes.Track(community));

        long evicted = 0;
        for (int round = 0; round < 30; round++)
        {
            switch (tape.Next(4))
            {
                case 0 or 1:
                    var batch = Enumerable.Range(0, tape.Next(1, 400)).Select(_ => Row()).ToList();
                    t.Store.Ingest(batch);
                    foreach (var r in batch.Where(InScope)) model[ItemOf(r)] = r.PubsubTopic;
                    break;
                case 2:
                    var victims = model.Keys.Where(_ => rng.Next(4) == 0).ToList();
                    t.Store.Delete(victims.Select(v => v.Hash).ToList());
                    foreach (var v in victims) model.Remove(v);
                    break;
                default:
                    long from = T0 + tape.NextInt64(span), to = from + tape.NextInt64(span / 4 + 1);
                    string pubsub = served[tape.Next(2)];
                    t.Store.DeleteRange(pubsub, null, from, to);
                    foreach (var k in model.Keys.Where(k => model[k] == pubsub && k.Timestamp >= from && k.Timestamp <= to).ToList()) model.Remove(k);
                    break;
            }
            if (round % 5 == 4)
            {
                // More of c0 on Topic than retention keeps, whatever the tape chose before: each eviction has work to do.
                var topUp = Enumerable.Range(0, 160).Select(_ => new IngestItem(Topic, TempStore.Message(C0, T0 + rng.NextInt64(span), $"m{next++}-{rng.Next()}"))).ToList();
                t.Store.Ingest(topUp);
                foreach (var r in topUp) model[ItemOf(r)] = r.PubsubTopic;
                var stored = new HashSet<MessageHash>();
                long result = evictor.Evict().Messages;
                using (var reader = t.Store.OpenTimeIndex(Topic, long.MinValue, MessageHash.Zero, forward: true))
                    while (reader.MoveNext()) stored.Add(reader.Current.Hash);
                var gone = model.Where(kv => kv.Value == Topic && !stored.Contains(kv.Key.Hash)).Select(kv => kv.Key).ToList();
                Assert.Equal(result, gone.Count); // what retention evicted, all of it in the community's scope
                foreach (var g in gone) model.Remove(g);
                evicted += result;
            }
            SortedSet<SyncItem> On(string? pubsub) => new(model.Where(kv => pubsub is null || kv.Value == pubsub).Select(kv => kv.Key));
            AssertMatches(indexes.SourceFor(community), On(null), rng);
            AssertMatches(indexes.SourceFor(new SyncScope([Topic], [C0, C2])), On(Topic), rng);
            AssertMatches(indexes.SourceFor(new SyncScope([Other], [C0, C2])), On(Other), rng);
        }
        Assert.True(evicted > 0);
        Assert.IsType<SyncIndex>(indexes.SourceFor(new SyncScope([Topic], [C0, C2])));
    }
}
