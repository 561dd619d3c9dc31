using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Storage.Retention;
using StoreSync.Testing.Storage;
using Row = StoreSync.Storage.Tests.RetentionModel.Row;

namespace StoreSync.Storage.Tests;

/// <summary>Retention on a real store: limits met exactly from the counters, oldest first, priorities, horizons, scope deletion.</summary>
public class EvictorTests
{
    internal const string P0 = "/waku/2/rs/1/0", P1 = "/waku/2/rs/1/1";
    internal const string A = "/alpha/1/chat/proto", A2 = "/alpha/1/media/proto", B = "/beta/1/chat/proto", Other = "/other/1/x/proto";

    internal static readonly RetentionScope Alpha = new("alpha", [new ScopeTopics(P0, [A, A2]), new ScopeTopics(P1, [A])]);
    internal static readonly RetentionScope Beta = RetentionScope.Of("beta", [P0], [B]);

    /// <summary>Messages of varied size on the given (pubsub, content) pairs, timestamps drawn with ties.</summary>
    static List<Row> Rows(Random random, int count, params (string Pubsub, string Content)[] pairs) =>
        Enumerable.Range(0, count).Select(i =>
        {
            var (p, c) = pairs[random.Next(pairs.Length)];
            return RetentionModel.RowOf(p, TempStore.Message(c, 1_000 + random.Next(0, count / 2 + 1), new string('x', random.Next(0, 300)) + i));
        }).ToList();

    internal static void Ingest(MessageStore store, IEnumerable<Row> rows)
    {
        foreach (var batch in rows.Chunk(500)) store.Ingest(batch.Select(r => new IngestItem(r.Pubsub, r.Message)).ToList());
    }

    static HashSet<MessageHash> Stored(MessageStore store, IEnumerable<Row> offered) => offered.Where(r => store.Contains(r.Hash)).Select(r => r.Hash).ToHashSet();

    [Fact]
    public void A_size_limit_keeps_the_newest_messages_that_fit_exactly_by_the_counters()
    {
        using var t = new TempStore();
        var random = new Random(1);
        var rows = Rows(random, 3_000, (P0, A), (P0, A2), (P1, A), (P0, B), (P0, Other));
        Ingest(t.Store, rows);
        long limit = rows.Where(r => Alpha.Covers(r.Pubsub, r.Message.ContentTopic)).Sum(r => r.Bytes) / 3;
        var evictor = new Evictor(t.Store, new([ScopeRetention.Bytes(Alpha, limit), ScopeRetention.Bytes(Beta, null)]), new EvictorOptions { ChunkMessages = 97 });
        Assert.True(evictor.NeedsEviction());

        var result = evictor.Evict();

        Assert.False(evictor.NeedsEviction());
        var alpha = rows.Where(r => Alpha.Covers(r.Pubsub, r.Message.ContentTopic)).OrderBy(r => r.Message.Timestamp).ThenBy(r => r.Hash).ToList();
        var figures = evictor.GetFigures("alpha");
        Assert.True(figures.Bytes <= limit);
        // Exact: the evicted ones are the oldest, and sparing the newest of them would have left the scope over its limit.
        var evicted = alpha.TakeWhile(r => !t.Store.Contains(r.Hash)).ToList();
        Assert.Equal(result.Messages, evicted.Count);
        Assert.All(alpha.Skip(evicted.Count), r => Assert.True(t.Store.Contains(r.Hash)));
        Assert.True(figures.Bytes + evicted[^1].Bytes > limit);
        Assert.Equal(alpha.Sum(r => r.Bytes) - figures.Bytes, result.Bytes);
        Assert.Equal(new TopicFigures(result.Messages, result.Bytes), result.ByScope["alpha"]);
        Assert.Equal(result.ByScope["alpha"], evictor.GetEvictedTotals()["alpha"]);
        Assert.Equal(figures, evictor.GetScopeFigures()["alpha"]);
        Assert.Equal(evictor.GetFigures("beta"), evictor.GetScopeFigures()["beta"]);
        Assert.Equal(rows.Where(r => Beta.Covers(r.Pubsub, r.Message.ContentTopic)).Sum(r => r.Bytes), evictor.GetScopeFigures()["beta"].Bytes);
        Assert.Equal((int)Math.Ceiling(result.Messages / 97.0), result.Chunks);
        // Beta (no limit) and the unscoped topic are untouched.
        Assert.All(rows.Where(r => !Alpha.Covers(r.Pubsub, r.Message.ContentTopic)), r => Assert.True(t.Store.Contains(r.Hash)));
        // The horizon is the newest evicted message, with the limits in force.
        var horizon = evictor.GetRetentionHorizon("alpha")!.Value;
        Assert.Equal((evicted[^1].Message.Timestamp, evicted[^1].Hash), (horizon.Timestamp, horizon.Hash));
        Assert.Equal(new RetentionLimits(limit, null, null, null), horizon.Limits);
        Assert.Null(evictor.GetRetentionHorizon("beta"));
        Assert.Empty(StoreIntegrity.Check(t.Store));
        Assert.Equal(0, evictor.Evict().Messages);
    }

    [Fact]
    public void The_store_matches_the_naive_model_for_scope_limits_then_the_global_limit_by_priority()
    {
        using var t = new TempStore();
        var random = new Random(2);
        var rows = Rows(random, 2_000, (P0, A), (P1, A), (P0, B), (P0, Other));
        var gamma = RetentionScope.Of("gamma", [P0], [Other]);
        var configuration = new RetentionConfiguration(
            [new ScopeRetention(Alpha, [new SizeRetentionPolicy(60_000)], priority: 1), new ScopeRetention(Beta, [new CountRetentionPolicy(400)]), new ScopeRetention(gamma, [])],
            globalMaxBytes: 120_000);
        var model = new RetentionModel();
        model.Configure(configuration);
        model.Ingest(rows);
        Ingest(t.Store, rows);
        var evictor = new Evictor(t.Store, configuration, new EvictorOptions { ChunkMessages = 50 });

        evictor.Evict();
        model.Evict();

        Assert.Equal(model.Rows.Keys.ToHashSet(), Stored(t.Store, rows));
        Assert.Equal(model.Horizons.OrderBy(h => h.Key).Select(h => $"{h.Key}:{h.Value.Timestamp}:{h.Value.Hash}"),
            t.Store.GetRetentionHorizons().OrderBy(h => h.Key).Select(h => $"{h.Key}:{h.Value.Timestamp}:{h.Value.Hash}"));
        long total = evictor.GetFigures("alpha").Bytes + evictor.GetFigures("beta").Bytes + evictor.GetFigures("gamma").Bytes;
        Assert.True(total <= 120_000);
        Assert.True(evictor.GetFigures("beta").Messages <= 400);
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public void The_global_limit_takes_from_the_scope_whose_oldest_message_is_oldest_and_spares_higher_priorities()
    {
        using var t = new TempStore();
        // Alpha holds t = 100..109, Beta t = 105..114: FIFO over the union takes Alpha's first five, then alternates.
        var alpha = Enumerable.Range(100, 10).Select(i => RetentionModel.RowOf(P0, TempStore.Message(A, i, "a" + i))).ToList();
        var beta = Enumerable.Range(105, 10).Select(i => RetentionModel.RowOf(P0, TempStore.Message(B, i, "b" + i))).ToList();
        Ingest(t.Store, alpha.Concat(beta));
        var union = alpha.Concat(beta).OrderBy(r => r.Message.Timestamp).ThenBy(r => r.Hash).ToList();
        // Room for all but the 8 oldest of the union: exactly those go — Alpha 100..104, then the older of each later pair.
        long limit = union.Skip(8).Sum(r => r.Bytes);
        var evictor = new Evictor(t.Store, new([ScopeRetention.Bytes(Alpha, null), ScopeRetention.Bytes(Beta, null)], globalMaxBytes: limit));
        Assert.Equal(8, evictor.Evict().Messages);
        Assert.Equal(union.Skip(8).Select(r => r.Hash).ToHashSet(), Stored(t.Store, union));
        Assert.Equal(union.Take(8).Where(r => r.Message.ContentTopic == B).Max(r => r.Message.Timestamp), evictor.GetRetentionHorizon("beta")!.Value.Timestamp);

        // Beta now has the higher priority: lowering the global limit takes Alpha first, all of it, before any of Beta.
        evictor.Configure(new([ScopeRetention.Bytes(Alpha, null), ScopeRetention.Bytes(Beta, null, priority: 5)], globalMaxBytes: beta.TakeLast(5).Sum(r => r.Bytes)));
        evictor.Evict();
        Assert.Equal(0, evictor.GetFigures("alpha").Messages);
        Assert.Equal(5, evictor.GetFigures("beta").Messages);
        Assert.Equal(beta.OrderBy(r => r.Message.Timestamp).ThenBy(r => r.Hash).TakeLast(5).Select(r => r.Hash).ToHashSet(), Stored(t.Store, beta));
        Assert.Equal(alpha.Max(r => r.Message.Timestamp), evictor.GetRetentionHorizon("alpha")!.Value.Timestamp);
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public void Horizons_survive_reopening_and_the_ingress_check_refuses_what_was_evicted_on_purpose()
    {
        using var t = new TempStore();
        var rows = Enumerable.Range(0, 100).Select(i => RetentionModel.RowOf(P0, TempStore.Message(A, 1_000 + i, "m" + i))).ToList();
        Ingest(t.Store, rows);
        var configuration = new RetentionConfiguration([new ScopeRetention(Alpha, [new CountRetentionPolicy(40)])]);
        var evictor = new Evictor(t.Store, configuration);
        Assert.Equal(60, evictor.Evict().Messages);
        var horizon = evictor.GetRetentionHorizon("alpha")!.Value;
        Assert.Equal((1_059L, rows[59].Hash), (horizon.Timestamp, horizon.Hash));
        Assert.Equal(1_060, horizon.SyncStart);

        t.Reopen();
        Assert.Equal(horizon, t.Store.GetRetentionHorizon("alpha"));
        evictor = new Evictor(t.Store, configuration);
        // Re-sent evicted messages, and new ones older than the horizon, are refused; newer ones are stored.
        var old = RetentionModel.RowOf(P0, TempStore.Message(A, 5, "older than the horizon"));
        var fresh = RetentionModel.RowOf(P0, TempStore.Message(A, 2_000, "new"));
        var unscoped = RetentionModel.RowOf(P0, TempStore.Message(Other, 5, "not in any scope"));
        var result = t.Store.Ingest([.. rows.Take(10).Select(r => new IngestItem(r.Pubsub, r.Message)), new(old.Pubsub, old.Message), new(fresh.Pubsub, fresh.Message), new(unscoped.Pubsub, unscoped.Message)]);
        Assert.Equal((2, 0, 11), (result.Inserted, result.Duplicates, result.Refused));
        Assert.False(t.Store.Contains(old.Hash));
        Assert.True(t.Store.Contains(fresh.Hash));
        Assert.False(evictor.Admits(P1, A, 1_059, rows[59].Hash));
        Assert.True(evictor.Admits(P1, A, 1_059, MessageHash.Max));
        Assert.Equal(horizon, evictor.GetRetentionHorizon(P1, A));
        Assert.Null(evictor.GetRetentionHorizon(P0, B));
        // Sync: a scope overlapping Alpha starts above its horizon; one that does not, anywhere.
        var sync = new SyncHorizon(evictor);
        Assert.Equal(1_060, sync.HighestStartOf(new SyncScope([P0], [])));
        Assert.Equal(1_060, sync.HighestStartOf(SyncScope.All));
        Assert.Equal(long.MinValue, sync.HighestStartOf(new SyncScope([P0], [B])));
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public void Raising_a_limit_clears_the_horizon_also_across_a_restart_and_tightening_keeps_it()
    {
        using var t = new TempStore();
        Ingest(t.Store, Enumerable.Range(0, 50).Select(i => RetentionModel.RowOf(P0, TempStore.Message(A, 1_000 + i, "m" + i))));
        var evictor = new Evictor(t.Store, new([new ScopeRetention(Alpha, [new CountRetentionPolicy(30)])]));
        evictor.Evict();
        Assert.NotNull(evictor.GetRetentionHorizon("alpha"));

        Assert.Empty(evictor.Configure(new([new ScopeRetention(Alpha, [new CountRetentionPolicy(20)])])));  // tighter: kept
        Assert.Empty(evictor.Configure(new([new ScopeRetention(Alpha, [new CountRetentionPolicy(30)])])));  // recorded limit is still 30
        Assert.NotNull(evictor.GetRetentionHorizon("alpha"));
        t.Reopen();
        // The node restarts with a raised limit in its configuration: the new evictor clears the horizon at once.
        evictor = new Evictor(t.Store, new([new ScopeRetention(Alpha, [new CountRetentionPolicy(45)])]));
        Assert.Null(evictor.GetRetentionHorizon("alpha"));
        var backfilled = RetentionModel.RowOf(P0, TempStore.Message(A, 1_001, "m1"));
        Assert.Equal(1, t.Store.Ingest([new(backfilled.Pubsub, backfilled.Message)]).Inserted);

        // A global limit raised or removed also clears; backfill may record where it stopped, with the limits in force.
        evictor.Configure(new([new ScopeRetention(Alpha, [])], globalMaxBytes: 300));
        evictor.Evict();
        Assert.NotNull(evictor.GetRetentionHorizon("alpha"));
        Assert.Equal(["alpha"], evictor.Configure(new([new ScopeRetention(Alpha, [])])));
        evictor.Configure(new([new ScopeRetention(Alpha, [new SizeRetentionPolicy(5_000)])]));
        evictor.SetRetentionHorizon("alpha", 1_010, MessageHash.Max);
        Assert.Equal(new RetentionLimits(5_000, null, null, null), evictor.GetRetentionHorizon("alpha")!.Value.Limits);
        Assert.Throws<ArgumentException>(() => evictor.SetRetentionHorizon("nobody", 1, MessageHash.Zero));
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public void Deleting_a_scope_removes_all_of_it_in_chunks_with_progress_and_clears_its_horizon()
    {
        using var t = new TempStore();
        var random = new Random(3);
        var rows = Rows(random, 1_000, (P0, A), (P1, A), (P0, A2), (P0, B));
        Ingest(t.Store, rows);
        var evictor = new Evictor(t.Store, new([new ScopeRetention(Alpha, [new CountRetentionPolicy(600)]), ScopeRetention.Bytes(Beta, null)]), new EvictorOptions { ChunkMessages = 64 });
        evictor.Evict();
        Assert.NotNull(evictor.GetRetentionHorizon("alpha"));
        var observer = new SetObserver(rows.Where(r => t.Store.Contains(r.Hash)).Select(r => r.Hash));
        t.Store.AddObserver(observer);
        var reports = new List<EvictionProgress>();

        var result = evictor.DeleteScope(Alpha, new InlineProgress(reports.Add));

        Assert.Equal(600, result.Messages);
        Assert.Equal(10, result.Chunks);
        Assert.Equal(Enumerable.Range(1, 10), reports.Select(r => r.Chunks));
        Assert.All(reports.Zip(reports.Skip(1)), p => Assert.InRange(p.Second.Messages - p.First.Messages, 1, 64));
        Assert.Equal(0, evictor.GetFigures("alpha").Messages);
        Assert.Null(evictor.GetRetentionHorizon("alpha"));
        Assert.All(rows.Where(r => r.Message.ContentTopic == B), r => Assert.True(t.Store.Contains(r.Hash)));
        Assert.Equal(Stored(t.Store, rows), observer.Hashes); // observers (the sync fingerprint index) saw every deletion
        Assert.Equal(0, evictor.DeleteScope(Alpha).Messages);
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public void A_time_policy_evicts_what_is_older_than_the_clock_allows()
    {
        using var t = new TempStore();
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddSeconds(100));
        var rows = Enumerable.Range(0, 100).Select(i => RetentionModel.RowOf(P0, TempStore.Message(A, i * 1_000_000_000L, "s" + i))).ToList();
        Ingest(t.Store, rows);
        var evictor = new Evictor(t.Store, new([new ScopeRetention(Alpha, [new TimeRetentionPolicy(TimeSpan.FromSeconds(30))])]), new EvictorOptions { TimeProvider = clock });
        Assert.False(evictor.NeedsEviction()); // time is not decidable from the counters
        Assert.Equal(70, evictor.Evict().Messages); // t < 70 s go
        clock.Now = clock.Now.AddSeconds(10);
        Assert.Equal(10, evictor.Evict().Messages);
        Assert.Equal(79_000_000_000L, evictor.GetRetentionHorizon("alpha")!.Value.Timestamp);
        Assert.Equal(TimeSpan.FromSeconds(30), evictor.GetRetentionHorizon("alpha")!.Value.Limits.MaxAge);
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public async Task The_background_loop_evicts_after_an_ingest_goes_over_a_limit()
    {
        using var t = new TempStore();
        var evictor = new Evictor(t.Store, new([new ScopeRetention(Alpha, [new CountRetentionPolicy(100)])]), new EvictorOptions { ChunkMessages = 30 });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var loop = evictor.RunAsync(stop.Token);
        var rows = Enumerable.Range(0, 1_000).Select(i => RetentionModel.RowOf(i % 2 == 0 ? P0 : P1, TempStore.Message(A, i, "m" + i))).ToList();
        foreach (var batch in rows.Chunk(50))
            t.Store.Ingest(batch.Select(r => new IngestItem(r.Pubsub, r.Message)).ToList());
        while (evictor.GetFigures("alpha").Messages > 100 && !stop.IsCancellationRequested) await Task.Delay(20); // bounded by the 60 s token
        Assert.Equal(100, evictor.GetFigures("alpha").Messages);
        Assert.Equal(rows.TakeLast(100).Select(r => r.Hash).ToHashSet(), Stored(t.Store, rows));
        await stop.CancelAsync();
        await loop;
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public async Task The_background_loop_ends_when_the_store_is_closed()
    {
        using var t = new TempStore();
        var evictor = new Evictor(t.Store, new([new ScopeRetention(Alpha, [new CountRetentionPolicy(100)])]), new EvictorOptions { TimePolicyInterval = TimeSpan.FromMilliseconds(50) });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var loop = evictor.RunAsync(stop.Token);
        t.Store.Dispose();
        await loop.WaitAsync(TimeSpan.FromSeconds(30)); // bounded: the loop sees the closed store on its next wake-up
        Assert.False(stop.IsCancellationRequested);
    }

    [Fact]
    public async Task Concurrent_ingest_during_a_long_eviction_leaves_a_consistent_store_within_its_limit()
    {
        using var t = new TempStore();
        var random = new Random(4);
        Ingest(t.Store, Rows(random, 20_000, (P0, A), (P1, A)));
        var evictor = new Evictor(t.Store, new([new ScopeRetention(Alpha, [new CountRetentionPolicy(1_000)])]), new EvictorOptions { ChunkMessages = 200 });
        var writer = Task.Run(() =>
        {
            var r = new Random(5);
            for (int round = 0; round < 50; round++)
                t.Store.Ingest(Rows(r, 100, (P0, A), (P0, B)).Select(x => new IngestItem(x.Pubsub, x.Message)).ToList());
        });
        evictor.Evict();
        await writer.WaitAsync(TimeSpan.FromSeconds(120));
        evictor.Evict();
        Assert.Equal(1_000, evictor.GetFigures("alpha").Messages);
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public void A_long_eviction_logs_its_progress()
    {
        using var t = new TempStore();
        Ingest(t.Store, Enumerable.Range(0, 300).Select(i => RetentionModel.RowOf(P0, TempStore.Message(A, i, "m" + i))));
        var logger = new ListLogger();
        var evictor = new Evictor(t.Store, new([new ScopeRetention(Alpha, [new CountRetentionPolicy(0)])]),
            new EvictorOptions { ChunkMessages = 50, ProgressLogInterval = TimeSpan.Zero }, logger);
        Assert.Equal(6, evictor.Evict().Chunks);
        Assert.Equal(5, logger.Lines.Count(l => l.Contains("so far", StringComparison.Ordinal))); // after chunks 2..6
        Assert.Contains(logger.Lines, l => l.Contains("Retention eviction done: 300 messages", StringComparison.Ordinal) && l.Contains("alpha: 300/", StringComparison.Ordinal));
    }

    [Fact]
    public void Bad_configurations_are_refused_with_a_clear_error()
    {
        Assert.Contains("overlap", Assert.Throws<ArgumentException>(() => new RetentionConfiguration([ScopeRetention.Bytes(Alpha, 1), ScopeRetention.Bytes(RetentionScope.Of("x", [P1], []), 1)])).Message);
        Assert.Contains("overlap", Assert.Throws<ArgumentException>(() => new RetentionConfiguration([ScopeRetention.Bytes(Alpha, 1), ScopeRetention.Bytes(RetentionScope.Of("x", [P0], [A2]), 1)])).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new RetentionConfiguration([ScopeRetention.Bytes(Alpha, 1), ScopeRetention.Bytes(Alpha with { }, 2)])).Message);
        Assert.Throws<ArgumentException>(() => RetentionScope.Of(new string('x', 257), [P0], []));
        Assert.Throws<ArgumentException>(() => RetentionScope.Of("", [P0], []));
        Assert.Throws<ArgumentException>(() => new RetentionScope("x", [new ScopeTopics(P0, []), new ScopeTopics(P0, [A])]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SizeRetentionPolicy(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimeRetentionPolicy(TimeSpan.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetentionConfiguration([], globalMaxBytes: -1));
        using var t = new TempStore();
        Assert.Throws<ArgumentOutOfRangeException>(() => new Evictor(t.Store, null, new EvictorOptions { ChunkMessages = 0 }));
        // Disjoint scopes on one pubsub topic are fine.
        Assert.Equal(2, new RetentionConfiguration([ScopeRetention.Bytes(Alpha, 1), ScopeRetention.Bytes(Beta, 1)]).Scopes.Count);
    }

    [Fact]
    public void The_horizon_value_encoding_of_spec_storage_md_holds()
    {
        var hash = MessageHash.Parse("0x64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05");
        var horizon = new RetentionHorizon(0x175789bfa23f8400, hash, new RetentionLimits(1L << 30, null, TimeSpan.FromDays(30), 10L << 30));
        Assert.Equal("68616c706861", Convert.ToHexStringLower(RetentionHorizons.Key("alpha")));
        var value = new byte[72];
        RetentionHorizons.Encode(horizon, value);
        Assert.Equal("975789bfa23f8400" + "64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05" +
                     "0000000040000000" + "ffffffffffffffff" + "0009356907420000" + "0000000280000000", Convert.ToHexStringLower(value));
    }

    sealed class SetObserver(IEnumerable<MessageHash> initial) : IMessageStoreObserver
    {
        public HashSet<MessageHash> Hashes { get; } = [.. initial];
        public void OnInserted(IReadOnlyList<StoreChange> changes) { foreach (var c in changes) Hashes.Add(c.Hash); }
        public void OnDeleted(IReadOnlyList<StoreChange> changes) { foreach (var c in changes) Assert.True(Hashes.Remove(c.Hash)); }
    }

    sealed class InlineProgress(Action<EvictionProgress> report) : IProgress<EvictionProgress>
    {
        public void Report(EvictionProgress value) => report(value);
    }
}

/// <summary>A clock the test sets by hand.</summary>
public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>Keeps formatted log lines.</summary>
public sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
{
    public List<string> Lines { get; } = [];
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Lines) Lines.Add(formatter(state, exception));
    }
}
