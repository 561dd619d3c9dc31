using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Reconciliation;

namespace StoreSync.Storage.Retention;

/// <summary>
/// Keeps a store within its retention limits: deletes the oldest messages of a scope first, in bounded atomic chunks, and
/// records each scope's retention horizon in the same batch. Also deletes whole scopes and refuses re-ingest below a horizon.
/// </summary>
/// <remarks>
/// Order (spec/storage.md, "Retention and eviction"): first every scope's own policies, each by its own FIFO; then the global
/// byte limit over all scopes, from the lowest priority up, FIFO over the union of the scopes of one priority (that is, always
/// from the scope whose oldest message is oldest). A chunk is planned and written under the store's write lock, so it sees
/// exactly the state it changes; between chunks ingest goes on. One evictor per store: it registers itself as the store's
/// observer (and ingress filter) for the store's lifetime. Its per-pair state is only touched under the write lock.
/// Where sync starts, given the horizons recorded here, is <see cref="Retention.SyncHorizon"/>'s to answer.
/// </remarks>
public sealed class Evictor : IMessageStoreObserver, IStoreIngressFilter
{
    readonly MessageStore _store;
    readonly EvictorOptions _options;
    readonly ILogger _logger;
    readonly SemaphoreSlim _wake = new(0, 1);
    RetentionConfiguration _configuration = RetentionConfiguration.Empty;
    readonly Dictionary<string, TopicFigures> _evicted = new(StringComparer.Ordinal);

    // Under the store's write lock only.
    readonly Dictionary<(uint, uint), int> _pairScope = [];
    List<(uint, uint)>[] _scopePairs = [];
    bool _pairsStale = true;
    /// <summary>Per pair: no message of the pair sorts below this item (advanced by eviction, lowered by older inserts).</summary>
    readonly Dictionary<(uint, uint), SyncItem> _frontier = [];

    public Evictor(MessageStore store, RetentionConfiguration? configuration = null, EvictorOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _options = options ?? new EvictorOptions();
        _options.Validate();
        _store = store;
        _logger = logger ?? NullLogger.Instance;
        store.AddObserver(this);
        if (_options.RefuseBelowHorizon) store.AddIngressFilter(this);
        Configure(configuration ?? RetentionConfiguration.Empty);
    }

    public RetentionConfiguration Configuration => Volatile.Read(ref _configuration);

    public EvictorOptions Options => _options;

    /// <summary>
    /// Replaces the configuration (between chunks). The horizon of every configured scope whose limits are now looser than the
    /// ones recorded with it is cleared, so backfill may fetch what fits again; returns the ids of those scopes.
    /// </summary>
    public IReadOnlyList<string> Configure(RetentionConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var cleared = _store.Exclusive(_ =>
        {
            Volatile.Write(ref _configuration, configuration);
            _pairsStale = true;
            var ids = new List<string>();
            for (int i = 0; i < configuration.Scopes.Count; i++)
            {
                string id = configuration.Scopes[i].Scope.Id;
                if (_store.Horizons.Get(id) is { } h && configuration.LimitsOf(i).IsLooserThan(h.Limits)) ids.Add(id);
            }
            foreach (var id in ids) _store.SetRetentionHorizon(id, null); // the write lock is re-entrant
            return ids;
        });
        foreach (var id in cleared)
            _logger.LogInformation("Retention limits of scope {Scope} were raised: its retention horizon is cleared so backfill may fetch what now fits", id);
        Wake();
        return cleared;
    }

    /// <summary>The persisted horizon of a scope, or null.</summary>
    public RetentionHorizon? GetRetentionHorizon(string scopeId) => _store.GetRetentionHorizon(scopeId);

    /// <summary>The horizon of the configured scope a (pubsub, content) message belongs to, or null (no scope, no horizon).</summary>
    public RetentionHorizon? GetRetentionHorizon(string pubsubTopic, string contentTopic)
    {
        var configuration = Configuration;
        int i = configuration.IndexOf(pubsubTopic, contentTopic);
        return i < 0 ? null : _store.Horizons.Get(configuration.Scopes[i].Scope.Id);
    }

    /// <summary>Records a horizon by hand with the limits now in force (backfill: "history below here is not wanted").</summary>
    /// <exception cref="ArgumentException">The scope is not configured.</exception>
    public void SetRetentionHorizon(string scopeId, long timestamp, MessageHash hash)
    {
        var configuration = Configuration;
        int i = configuration.IndexOf(scopeId);
        if (i < 0) throw new ArgumentException($"retention scope '{scopeId}' is not configured", nameof(scopeId));
        _store.SetRetentionHorizon(scopeId, new RetentionHorizon(timestamp, hash, configuration.LimitsOf(i)));
    }

    /// <summary>Messages and bytes the scope holds now, from the counters (zeros for a scope not configured).</summary>
    public TopicFigures GetFigures(string scopeId) => GetScopeFigures().GetValueOrDefault(scopeId);

    /// <summary>Messages and bytes of every configured scope now, from the counters, in one pass (a scope holding nothing is listed with zeros).</summary>
    public IReadOnlyDictionary<string, TopicFigures> GetScopeFigures()
    {
        var configuration = Configuration;
        var totals = new Dictionary<string, TopicFigures>(StringComparer.Ordinal);
        foreach (var s in configuration.Scopes) totals[s.Scope.Id] = default;
        foreach (var ((p, c), figures) in _store.Counters.Snapshot())
            if (_store.Topics.TryGetPubsubName(p, out var pubsub) && _store.Topics.TryGetContentName(c, out var content) && configuration.IndexOf(pubsub, content) is int i and >= 0)
                totals[configuration.Scopes[i].Scope.Id] += figures;
        return totals;
    }

    /// <summary>Messages and bytes evicted (and deleted by <see cref="DeleteScope"/>) per scope id since this evictor was made.</summary>
    public IReadOnlyDictionary<string, TopicFigures> GetEvictedTotals()
    {
        lock (_evicted) return new Dictionary<string, TopicFigures>(_evicted, StringComparer.Ordinal);
    }

    /// <summary>
    /// The cheap check (counters only, no read): true when a scope's size or count policy or the global limit is exceeded.
    /// Time policies need a read; eviction runs apply them.
    /// </summary>
    public bool NeedsEviction() => _store.Exclusive(_ => OverByCounters());

    /// <summary>Evicts until every limit holds: chunk after chunk, each one atomic; reports after each chunk and logs progress.</summary>
    /// <exception cref="OperationCanceledException">Cancelled between two chunks (every chunk before is durable).</exception>
    public EvictionResult Evict(IProgress<EvictionProgress>? progress = null, CancellationToken cancellationToken = default) =>
        RunChunks("eviction", EvictChunk, progress, cancellationToken);

    /// <inheritdoc cref="Evict"/>
    public Task<EvictionResult> EvictAsync(IProgress<EvictionProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Evict(progress, cancellationToken), cancellationToken);

    /// <summary>Plans and writes one chunk (at most <see cref="EvictorOptions.ChunkMessages"/> messages, one WriteBatch); nothing when within limits.</summary>
    public EvictionResult EvictChunk() => _store.Exclusive(view =>
    {
        EnsurePairs();
        var configuration = _configuration;
        var plan = new ChunkPlan(_options.ChunkMessages);
        PlanScopes(view, configuration, plan);
        if (plan.Count == 0) PlanGlobal(view, configuration, plan);
        if (plan.Count == 0) return EvictionResult.Nothing;

        // Per scope the newest victim; a horizon already higher (set by hand for backfill) stays. The limits recorded are the
        // ones this chunk enforced.
        var newest = new Dictionary<int, SyncItem>();
        for (int k = 0; k < plan.Count; k++)
        {
            var item = new SyncItem(plan.Locations[k].Timestamp, plan.Locations[k].Hash);
            if (!newest.TryGetValue(plan.Scopes[k], out var n) || n < item) newest[plan.Scopes[k]] = item;
        }
        var horizons = new Dictionary<string, RetentionHorizon?>(StringComparer.Ordinal);
        foreach (var (s, item) in newest)
        {
            string id = configuration.Scopes[s].Scope.Id;
            var top = _store.Horizons.Get(id) is { } c && c.Covers(item.Timestamp, item.Hash) ? new SyncItem(c.Timestamp, c.Hash) : item;
            horizons[id] = new RetentionHorizon(top.Timestamp, top.Hash, configuration.LimitsOf(s));
        }
        return Commit(plan, configuration, horizons);
    });

    /// <summary>
    /// Deletes every message of <paramref name="scope"/> (configured or not) oldest first, in chunks, and then clears its
    /// horizon (a scope that is joined again starts afresh). Stop ingest for the scope first: this runs until it is empty.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled between two chunks; what was deleted stays deleted.</exception>
    public EvictionResult DeleteScope(RetentionScope scope, IProgress<EvictionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var result = RunChunks($"deletion of scope {scope.Id}", () => _store.Exclusive(view =>
        {
            var pairs = new List<(uint, uint)>();
            foreach (var ((p, c), figures) in _store.Counters.Snapshot())
                if (figures.Messages > 0 && scope.Covers(_store.Topics.PubsubName(p), _store.Topics.ContentName(c))) pairs.Add((p, c));
            var plan = new ChunkPlan(_options.ChunkMessages);
            using (var cursor = new ScopeCursor(view, pairs, _frontier))
                for (; cursor.Valid && plan.Count < plan.Capacity; cursor.Advance()) plan.Add(cursor.Current, cursor.CurrentBytes, -1);
            return plan.Count == 0 ? EvictionResult.Nothing : Commit(plan, null, null, scope.Id);
        }), progress, cancellationToken);
        _store.SetRetentionHorizon(scope.Id, null);
        return result;
    }

    /// <inheritdoc cref="DeleteScope"/>
    public Task<EvictionResult> DeleteScopeAsync(RetentionScope scope, IProgress<EvictionProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => DeleteScope(scope, progress, cancellationToken), cancellationToken);

    /// <summary>
    /// Evicts whenever an ingest batch takes a scope or the store over a size or count limit (the observer's cheap check wakes
    /// it), and every <see cref="EvictorOptions.TimePolicyInterval"/> for time policies, until cancelled. A failed run is
    /// logged and retried on the next wake-up; the loop ends when the store is disposed.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await EvictAsync(null, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return; // the store was closed under the loop: nothing left to keep within limits
            }
            catch (Exception e) when (e is StoreObserverException or StoreCorruptionException or RocksDbSharp.RocksDbException or IOException)
            {
                _logger.LogError(e, "Eviction failed; it is retried on the next ingest or after {Interval}", _options.TimePolicyInterval);
            }
            try
            {
                await _wake.WaitAsync(_options.TimePolicyInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    void IMessageStoreObserver.OnInserted(IReadOnlyList<StoreChange> changes)
    {
        // Under the write lock, after the batch is written.
        foreach (var change in changes)
        {
            var pair = (change.PubsubId, change.ContentId);
            if (!_pairScope.ContainsKey(pair)) _pairsStale = true;
            var item = new SyncItem(change.Timestamp, change.Hash);
            if (_frontier.TryGetValue(pair, out var f) && item < f) _frontier[pair] = item;
        }
        if (_configuration.Scopes.Count > 0 && OverByCounters()) Wake();
    }

    void IMessageStoreObserver.OnDeleted(IReadOnlyList<StoreChange> changes)
    {
        // Deleting never puts a message below a frontier: nothing to do.
    }

    /// <summary>The store-level ingress check: a message at or below its scope's horizon was evicted on purpose and is not stored again.</summary>
    public bool Admits(string pubsubTopic, string contentTopic, long timestamp, in MessageHash hash)
    {
        var configuration = _configuration;
        int i = configuration.IndexOf(pubsubTopic, contentTopic);
        return i < 0 || _store.Horizons.Get(configuration.Scopes[i].Scope.Id) is not { } h || !h.Covers(timestamp, hash);
    }

    void Wake()
    {
        if (_wake.CurrentCount > 0) return;
        try { _wake.Release(); }
        catch (SemaphoreFullException) { } // woken by another thread meanwhile: once is enough
    }

    bool OverByCounters()
    {
        EnsurePairs();
        var configuration = _configuration;
        var now = _options.TimeProvider.GetUtcNow();
        long total = 0;
        for (int s = 0; s < configuration.Scopes.Count; s++)
        {
            var figures = FiguresOf(s);
            if (configuration.Scopes[s].Goal(figures, now).WantsByCount) return true;
            total += figures.Bytes;
        }
        return total > configuration.GlobalMaxBytes;
    }

    TopicFigures FiguresOf(int scope)
    {
        var total = default(TopicFigures);
        foreach (var (p, c) in _scopePairs[scope]) total += _store.Counters.Get(p, c);
        return total;
    }

    /// <summary>Maps every known (pubsub, content) pair to its scope after the configuration or the set of pairs changed.</summary>
    void EnsurePairs()
    {
        if (!_pairsStale) return;
        var configuration = _configuration;
        var scopePairs = new List<(uint, uint)>[configuration.Scopes.Count];
        for (int s = 0; s < scopePairs.Length; s++) scopePairs[s] = [];
        _pairScope.Clear();
        foreach (var ((p, c), _) in _store.Counters.Snapshot())
        {
            int s = configuration.IndexOf(_store.Topics.PubsubName(p), _store.Topics.ContentName(c));
            _pairScope[(p, c)] = s;
            if (s >= 0) scopePairs[s].Add((p, c));
        }
        _scopePairs = scopePairs;
        _pairsStale = false;
    }

    /// <summary>Phase 1: each scope's own policies, oldest of that scope first.</summary>
    void PlanScopes(StoreView view, RetentionConfiguration configuration, ChunkPlan plan)
    {
        var now = _options.TimeProvider.GetUtcNow();
        for (int s = 0; s < configuration.Scopes.Count && plan.Count < plan.Capacity; s++)
        {
            var goal = configuration.Scopes[s].Goal(FiguresOf(s), now);
            if (!goal.WantsByCount && goal.OlderThan == long.MinValue) continue;
            long bytes = 0, messages = 0;
            using var cursor = new ScopeCursor(view, _scopePairs[s], _frontier);
            for (; cursor.Valid && plan.Count < plan.Capacity && goal.Wants(bytes, messages, cursor.Current.Timestamp); cursor.Advance())
            {
                bytes += cursor.CurrentBytes;
                messages++;
                plan.Add(cursor.Current, cursor.CurrentBytes, s);
            }
        }
    }

    /// <summary>Phase 2: the global byte limit, lowest priority first, FIFO over the union of the scopes of one priority.</summary>
    void PlanGlobal(StoreView view, RetentionConfiguration configuration, ChunkPlan plan)
    {
        if (configuration.GlobalMaxBytes is not { } max) return;
        long total = 0;
        for (int s = 0; s < configuration.Scopes.Count; s++) total += FiguresOf(s).Bytes;
        long over = total - max, freed = 0;
        if (over <= 0) return;
        foreach (var level in Enumerable.Range(0, configuration.Scopes.Count).GroupBy(s => configuration.Scopes[s].Priority).OrderBy(g => g.Key))
        {
            using var cursor = new ScopeCursor(view, level.SelectMany(s => _scopePairs[s]), _frontier);
            for (; cursor.Valid && plan.Count < plan.Capacity && freed < over; cursor.Advance())
            {
                var l = cursor.Current;
                freed += cursor.CurrentBytes;
                plan.Add(l, cursor.CurrentBytes, _pairScope[(l.PubsubId, l.ContentId)]);
            }
            if (freed >= over || plan.Count == plan.Capacity) return;
        }
    }

    /// <summary>Deletes the planned messages with the new horizons in one batch; moves each touched pair's frontier once it is written.</summary>
    EvictionResult Commit(ChunkPlan plan, RetentionConfiguration? configuration, Dictionary<string, RetentionHorizon?>? horizons, string? scopeId = null)
    {
        IReadOnlyDictionary<string, RetentionHorizon?>? staged = null;
        int deleted = _store.DeleteLocations(plan.Locations, plan.Sizes,
            stage: horizons is null ? null : batch => staged = _store.Horizons.Stage(horizons, batch, _store.MetaFamily),
            committed: () =>
            {
                if (staged is not null) _store.Horizons.Apply(staged);
                // Each pair's victims are the oldest of the pair in ascending order, so its last one is its new frontier.
                foreach (var l in plan.Locations) _frontier[(l.PubsubId, l.ContentId)] = new SyncItem(l.Timestamp, l.Hash);
            });
        if (deleted != plan.Count) throw new StoreCorruptionException($"an eviction chunk deleted {deleted} of {plan.Count} planned messages");
        var byScope = new Dictionary<string, TopicFigures>(StringComparer.Ordinal);
        long bytes = 0;
        for (int k = 0; k < plan.Count; k++)
        {
            string id = plan.Scopes[k] >= 0 ? configuration!.Scopes[plan.Scopes[k]].Scope.Id : scopeId!;
            byScope[id] = byScope.GetValueOrDefault(id) + new TopicFigures(1, plan.Sizes[k]);
            bytes += plan.Sizes[k];
        }
        lock (_evicted)
            foreach (var (id, f) in byScope) _evicted[id] = _evicted.GetValueOrDefault(id) + f;
        return new EvictionResult(plan.Count, bytes, 1, TimeSpan.Zero, byScope);
    }

    EvictionResult RunChunks(string what, Func<EvictionResult> chunk, IProgress<EvictionProgress>? progress, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var lastLog = TimeSpan.Zero;
        long messages = 0, bytes = 0;
        int chunks = 0;
        var byScope = new Dictionary<string, TopicFigures>(StringComparer.Ordinal);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var done = chunk();
            if (done.Messages == 0) break;
            chunks++;
            messages += done.Messages;
            bytes += done.Bytes;
            foreach (var (id, f) in done.ByScope) byScope[id] = byScope.GetValueOrDefault(id) + f;
            progress?.Report(new EvictionProgress(messages, bytes, chunks, watch.Elapsed));
            if (watch.Elapsed - lastLog >= _options.ProgressLogInterval && chunks > 1)
            {
                lastLog = watch.Elapsed;
                _logger.LogInformation("Retention {What}: {Messages} messages, {Bytes} bytes deleted in {Chunks} chunks so far ({Seconds:F1} s)",
                    what, messages, bytes, chunks, watch.Elapsed.TotalSeconds);
            }
            // Let a waiting writer take the lock between chunks (the lock is not fair).
            Thread.Yield();
        }
        if (messages > 0)
            _logger.LogInformation("Retention {What} done: {Messages} messages, {Bytes} bytes deleted in {Chunks} chunks ({Seconds:F1} s); per scope {Scopes}",
                what, messages, bytes, chunks, watch.Elapsed.TotalSeconds, string.Join(", ", byScope.Select(kv => $"{kv.Key}: {kv.Value.Messages}/{kv.Value.Bytes} B")));
        return new EvictionResult(messages, bytes, chunks, watch.Elapsed, byScope);
    }

    /// <summary>The messages one chunk deletes, with their stored sizes and scope indexes (−1 for a scope deletion).</summary>
    sealed class ChunkPlan(int capacity)
    {
        public int Capacity { get; } = capacity;
        public List<MessageLocation> Locations { get; } = new(Math.Min(capacity, 4096));
        public List<int> Sizes { get; } = new(Math.Min(capacity, 4096));
        public List<int> Scopes { get; } = new(Math.Min(capacity, 4096));
        public int Count => Locations.Count;

        public void Add(in MessageLocation location, int bytes, int scope)
        {
            Locations.Add(location);
            Sizes.Add(bytes);
            Scopes.Add(scope);
        }
    }
}
