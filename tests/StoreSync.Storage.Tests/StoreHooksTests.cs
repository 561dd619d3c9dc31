using StoreSync.Core;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>The hooks later issues build on: the (pubsub, timestamp, hash) walk for reconciliation and observer notifications.</summary>
public class StoreHooksTests
{
    const string Pubsub = "/waku/2/rs/1/0";

    static List<TimeIndexEntry> Walk(TimeIndexReader reader)
    {
        var entries = new List<TimeIndexEntry>();
        using (reader)
            while (reader.MoveNext()) entries.Add(reader.Current);
        return entries;
    }

    static (TempStore Store, List<(long Timestamp, MessageHash Hash, string Content)> Sorted) Fill()
    {
        var t = new TempStore();
        var items = new List<IngestItem>();
        for (int i = 0; i < 60; i++)
            items.Add(new(i % 5 == 0 ? "/waku/2/rs/1/1" : Pubsub, TempStore.Message(i % 2 == 0 ? "/app/1/a/proto" : "/app/1/b/proto", (i % 7) * 10 - 20, $"m{i}")));
        t.Store.Ingest(items);
        var sorted = items.Where(i => i.PubsubTopic == Pubsub)
            .Select(i => (i.Message.Timestamp, MessageHash.Compute(Pubsub, i.Message), i.Message.ContentTopic))
            .OrderBy(x => x.Timestamp).ThenBy(x => x.Item2).ToList();
        return (t, sorted);
    }

    [Fact]
    public void The_time_index_walks_forward_and_backward_from_a_bound_inclusive_or_not()
    {
        var (t, sorted) = Fill();
        using var _ = t;
        Assert.True(t.Store.TryGetPubsubTopicId(Pubsub, out uint pubsubId));

        var all = Walk(t.Store.OpenTimeIndex(Pubsub, long.MinValue, MessageHash.Zero, forward: true));
        Assert.Equal(sorted.Select(s => (s.Timestamp, s.Hash)), all.Select(e => (e.Timestamp, e.Hash)));
        Assert.All(all, e => Assert.Equal(pubsubId, e.PubsubId));
        Assert.Equal(sorted.Select(s => s.Content), all.Select(e => t.Store.GetContentTopic(e.ContentId)));

        var backwardAll = Walk(t.Store.OpenTimeIndex(Pubsub, long.MaxValue, MessageHash.Max, forward: false));
        Assert.Equal(Enumerable.Reverse(all), backwardAll);

        var pivot = sorted[sorted.Count / 2];
        int at = sorted.Count / 2;
        Assert.Equal(all.Skip(at), Walk(t.Store.OpenTimeIndex(Pubsub, pivot.Timestamp, pivot.Hash, forward: true)));
        Assert.Equal(all.Skip(at + 1), Walk(t.Store.OpenTimeIndex(Pubsub, pivot.Timestamp, pivot.Hash, forward: true, inclusive: false)));
        Assert.Equal(all.Take(at + 1).Reverse(), Walk(t.Store.OpenTimeIndex(pubsubId, pivot.Timestamp, pivot.Hash, forward: false)));
        Assert.Equal(all.Take(at).Reverse(), Walk(t.Store.OpenTimeIndex(pubsubId, pivot.Timestamp, pivot.Hash, forward: false, inclusive: false)));

        // A bound between entries: (t, 0x00…) starts forward at the first entry of time t; (t, 0xff…) ends backward at its last.
        long time = sorted[at].Timestamp;
        Assert.Equal(all.Where(e => e.Timestamp >= time), Walk(t.Store.OpenTimeIndex(Pubsub, time, MessageHash.Zero, forward: true)));
        Assert.Equal(all.Where(e => e.Timestamp <= time).Reverse(), Walk(t.Store.OpenTimeIndex(Pubsub, time, MessageHash.Max, forward: false)));

        Assert.Empty(Walk(t.Store.OpenTimeIndex("/waku/2/unknown", 0, MessageHash.Zero, forward: true)));
    }

    [Fact]
    public void A_time_index_walk_reads_one_snapshot_while_writes_go_on()
    {
        var (t, sorted) = Fill();
        using var _ = t;
        using var reader = t.Store.OpenTimeIndex(Pubsub, long.MinValue, MessageHash.Zero, forward: true);
        Assert.True(reader.MoveNext());
        var first = reader.Current;
        t.Store.Delete([first.Hash, sorted[^1].Hash]);
        t.Store.Ingest([new(Pubsub, TempStore.Message("/app/1/a/proto", 0, "late"))]);
        int count = 1;
        while (reader.MoveNext()) count++;
        Assert.Equal(sorted.Count, count);
    }

    [Fact]
    public void Observers_get_topic_ids_that_resolve_to_the_topics()
    {
        using var t = new TempStore();
        var observer = new ListObserver();
        t.Store.AddObserver(observer);
        var m = TempStore.Message("/app/1/a/proto", 5, "x");
        t.Store.Ingest([new(Pubsub, m)]);
        t.Store.DeleteRange(Pubsub, null, 0, 10);
        Assert.Equal(2, observer.Changes.Count);
        foreach (var (change, _) in observer.Changes)
        {
            Assert.Equal(Pubsub, t.Store.GetPubsubTopic(change.PubsubId));
            Assert.Equal("/app/1/a/proto", t.Store.GetContentTopic(change.ContentId));
            Assert.Equal(MessageHash.Compute(Pubsub, m), change.Hash);
            Assert.Equal(m.CalculateSize(), change.Bytes);
        }
        Assert.Equal([true, false], observer.Changes.Select(c => c.Inserted));
        Assert.Throws<StoreCorruptionException>(() => t.Store.GetContentTopic(999));
    }

    [Fact]
    public void A_failing_observer_does_not_undo_the_batch_and_the_others_are_still_told()
    {
        using var t = new TempStore();
        var after = new ListObserver();
        t.Store.AddObserver(new ThrowingObserver());
        t.Store.AddObserver(after);
        var m = TempStore.Message("/app/1/a/proto", 5, "x");
        var e = Assert.Throws<StoreObserverException>(() => t.Store.Ingest([new(Pubsub, m)]));
        Assert.Contains("committed", e.Message);
        Assert.True(t.Store.Contains(MessageHash.Compute(Pubsub, m)));
        Assert.Single(after.Changes);
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public void A_batch_with_a_missing_topic_or_message_is_refused_before_anything_is_written()
    {
        using var t = new TempStore();
        var good = new IngestItem(Pubsub, TempStore.Message("/app/1/a/proto", 5, "x"));
        Assert.Throws<ArgumentException>(() => t.Store.Ingest([good, new("", good.Message)]));
        Assert.Throws<ArgumentException>(() => t.Store.Ingest([good, new(Pubsub, null!)]));
        Assert.Equal(0, t.Store.GetStatistics().Messages);
    }

    sealed class ListObserver : IMessageStoreObserver
    {
        public List<(StoreChange Change, bool Inserted)> Changes { get; } = [];
        public void OnInserted(IReadOnlyList<StoreChange> changes) { foreach (var c in changes) Changes.Add((c, true)); }
        public void OnDeleted(IReadOnlyList<StoreChange> changes) { foreach (var c in changes) Changes.Add((c, false)); }
    }

    sealed class ThrowingObserver : IMessageStoreObserver
    {
        public void OnInserted(IReadOnlyList<StoreChange> changes) => throw new InvalidOperationException("observer bug");
        public void OnDeleted(IReadOnlyList<StoreChange> changes) => throw new InvalidOperationException("observer bug");
    }
}
