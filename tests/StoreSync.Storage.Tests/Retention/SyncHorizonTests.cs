using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Storage.Retention;
using StoreSync.Testing.Storage;
using static StoreSync.Storage.Tests.EvictorTests;

namespace StoreSync.Storage.Tests.Retention;

/// <summary>Where sync starts, from the horizons the evictor records: a session's start, the highest start, what a transfer
/// must not store again and what backfill may still fetch.</summary>
public class SyncHorizonTests
{
    [Fact]
    public void A_session_start_is_the_lowest_horizon_over_what_its_scope_can_hold()
    {
        using var t = new TempStore();
        // Two communities on one shard with different limits: alpha keeps 40 of 100, beta keeps all 100 of its own.
        var rows = Enumerable.Range(0, 100).SelectMany(i => new[]
        {
            RetentionModel.RowOf(P0, TempStore.Message(A, 1_000 + i, "a" + i)),
            RetentionModel.RowOf(P0, TempStore.Message(B, 1_000 + i, "b" + i)),
        }).ToList();
        Ingest(t.Store, rows);
        const string P2 = "/waku/2/rs/1/2";
        var gamma = RetentionScope.Of("gamma", [P2], []);
        var evictor = new Evictor(t.Store, new([new ScopeRetention(Alpha, [new CountRetentionPolicy(40)]),
            new ScopeRetention(Beta, [new CountRetentionPolicy(1_000)]), new ScopeRetention(gamma, [])]));
        Assert.Equal(60, evictor.Evict().Messages);
        Assert.Equal(1_060, evictor.GetRetentionHorizon("alpha")!.Value.SyncStart);
        var horizon = new SyncHorizon(evictor);

        // One community: exactly its own start.
        Assert.Equal(1_060, horizon.StartOf(new SyncScope([P0], [A])));
        Assert.Equal(1_060, horizon.StartOf(new SyncScope([P0], [A, A2])));
        Assert.Equal(long.MinValue, horizon.StartOf(new SyncScope([P0, P1], [A, A2]))); // alpha lists only A on P1
        Assert.Equal(long.MinValue, horizon.StartOf(new SyncScope([P0], [B])));
        // Spanning both (or unscoped topics, or the whole shard, which holds content topics in no scope): the lowest.
        Assert.Equal(long.MinValue, horizon.StartOf(new SyncScope([P0], [A, B])));
        Assert.Equal(long.MinValue, horizon.StartOf(new SyncScope([P0], [A, Other])));
        Assert.Equal(long.MinValue, horizon.StartOf(new SyncScope([P0], [])));
        Assert.Equal(long.MinValue, horizon.StartOf(SyncScope.All));
        // A scope of the whole topic counts for every content topic on it.
        Assert.Equal(long.MinValue, horizon.StartOf(new SyncScope([P2], [])));
        Assert.Equal(long.MinValue, horizon.StartOf(new SyncScope([P2], [Other])));
        // The old rule (highest) is what dropped beta's history on a whole-shard session.
        Assert.Equal(1_060, horizon.HighestStartOf(new SyncScope([P0], [])));
        Ingest(t.Store, Enumerable.Range(0, 10).Select(i => RetentionModel.RowOf(P2, TempStore.Message(Other, 3_000 + i, "g" + i))));
        evictor.Configure(new([new ScopeRetention(Alpha, [new CountRetentionPolicy(40)]), new ScopeRetention(Beta, []),
            new ScopeRetention(gamma, [new CountRetentionPolicy(4)])]));
        evictor.Evict();
        Assert.Equal(3_006, horizon.StartOf(new SyncScope([P2], [])));
        Assert.Equal(3_006, horizon.StartOf(new SyncScope([P2], [Other, A2])));
        Assert.Equal(1_060, horizon.StartOf(new SyncScope([P0, P1], [A])));
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public void A_message_at_or_below_its_own_scope_s_horizon_was_evicted_and_nothing_is_without_an_evictor()
    {
        using var t = new TempStore();
        var rows = Enumerable.Range(0, 100).Select(i => RetentionModel.RowOf(P0, TempStore.Message(A, 1_000 + i, "a" + i))).ToList();
        Ingest(t.Store, rows);
        var evictor = new Evictor(t.Store, new([new ScopeRetention(Alpha, [new CountRetentionPolicy(40)]), new ScopeRetention(Beta, [])]));
        Assert.Equal(60, evictor.Evict().Messages);
        var horizon = new SyncHorizon(evictor);
        var recorded = evictor.GetRetentionHorizon("alpha");
        Assert.True(horizon.IsEvicted(P0, A, 1_059, rows[59].Hash));
        Assert.True(horizon.IsEvicted(P1, A, 1_058, MessageHash.Max));
        Assert.False(horizon.IsEvicted(P0, A, 1_059, MessageHash.Max)); // the same nanosecond, above the newest victim's hash
        Assert.Equal(horizon.IsEvicted(P0, A, 1_059, rows[59].Hash), SyncHorizon.IsEvicted(recorded, 1_059, rows[59].Hash));
        Assert.False(horizon.IsEvicted(P0, A, 1_060, MessageHash.Zero));
        Assert.False(horizon.IsEvicted(P0, B, 5, MessageHash.Zero)); // beta has no horizon
        Assert.False(horizon.IsEvicted(P0, Other, 5, MessageHash.Zero)); // in no scope
        Assert.Equal(1_060, SyncHorizon.StartAbove(recorded));
        Assert.Equal(long.MinValue, SyncHorizon.StartAbove(null));
        // Count limits do not bound backfill; without an evictor nothing does and everything starts anywhere.
        Assert.False(horizon.IsLimited(new SyncScope([P0], [A])));
        Assert.False(horizon.IsFull(new SyncScope([P0], [A])));
        Assert.False(SyncHorizon.None.IsEvicted(P0, A, 1_000, rows[0].Hash));
        Assert.Equal(long.MinValue, SyncHorizon.None.StartOf(new SyncScope([P0], [A])));
        Assert.Equal(long.MinValue, SyncHorizon.None.HighestStartOf(SyncScope.All));
        Assert.False(SyncHorizon.None.IsLimited(SyncScope.All));
    }

    [Fact]
    public void Backfill_is_limited_by_a_size_or_global_limit_and_full_within_one_message_of_it()
    {
        using var t = new TempStore();
        var rows = Enumerable.Range(0, 100).Select(i => RetentionModel.RowOf(P0, TempStore.Message(A, 1_000 + i, new string('x', 100) + i))).ToList();
        Ingest(t.Store, rows);
        long held = rows.Sum(r => r.Bytes), largest = rows.Max(r => r.Bytes);
        var evictor = new Evictor(t.Store, new([ScopeRetention.Bytes(Alpha, held + largest), ScopeRetention.Bytes(Beta, null)]));
        var horizon = new SyncHorizon(evictor, slackBytes: largest);
        Assert.True(horizon.IsLimited(new SyncScope([P0], [A])));
        Assert.True(horizon.IsLimited(new SyncScope([P0], []))); // overlaps alpha
        Assert.False(horizon.IsLimited(new SyncScope([P0], [B])));
        Assert.True(horizon.IsFull(new SyncScope([P0], [A]))); // one message short of the limit
        Assert.False(new SyncHorizon(evictor).IsFull(new SyncScope([P0], [A]))); // without slack: not yet
        Assert.False(horizon.IsFull(new SyncScope([P0], [B])));
        evictor.Configure(new([ScopeRetention.Bytes(Beta, null)], globalMaxBytes: 10 * held));
        Assert.True(horizon.IsLimited(new SyncScope([P0], [B])));
        Assert.False(horizon.IsFull(new SyncScope([P0], [B])));
    }
}
