using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StoreSync.Reconciliation;

namespace StoreSync.Storage.Sync;

/// <summary>The node's sync scopes: one live <see cref="SyncIndex"/> per served pubsub topic, and the item source of any scope a session agrees on.</summary>
/// <remarks>
/// A session's scope is the intersection of both sides' topic lists (nwaku's rule). Scopes made of whole served pubsub topics
/// are answered by summing their indexes (XOR and counts add over disjoint sets); community scopes the node syncs have live indexes
/// of their own (<see cref="Track"/>). A peer that narrows to content topics we do not index gets an in-memory source read from the
/// store for that session, at most <see cref="SyncIndexLimits.MaxAdHocScopeItems"/> items.
/// </remarks>
public sealed class SyncIndexes
{
    readonly MessageStore _store;
    readonly Dictionary<string, SyncIndex> _indexes = new(StringComparer.Ordinal);
    readonly IReadOnlyList<string> _contentTopics;
    readonly SyncIndexLimits _limits;

    readonly string? _directory;
    ILogger? _logger;

    /// <param name="directory">Where the indexes are saved when the store closes and loaded from at the next <see cref="Build"/>
    /// (spec/sync.md §5.2); null: rebuilt from the store at every start.</param>
    public SyncIndexes(MessageStore store, IEnumerable<string> pubsubTopics, IReadOnlyList<string>? contentTopics = null, SyncIndexLimits? limits = null,
        string? directory = null)
    {
        _store = store;
        _directory = directory;
        _contentTopics = contentTopics ?? [];
        _limits = limits ?? SyncIndexLimits.Default;
        PubsubTopics = [.. pubsubTopics.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        LocalScope = new SyncScope(PubsubTopics, _contentTopics);
    }

    /// <summary>The served pubsub topics, in ordinal order.</summary>
    public IReadOnlyList<string> PubsubTopics { get; }

    /// <summary>What this node announces in its sessions: its pubsub topics and content topics (empty = all).</summary>
    public SyncScope LocalScope { get; }

    public bool IsBuilt { get; private set; }

    /// <summary>Total time of <see cref="Build"/>.</summary>
    public TimeSpan BuildTime { get; private set; }

    public IReadOnlyCollection<SyncIndex> Indexes => _indexes.Values;

    // Community scopes: (pubsub topic, its content topics in ordinal order) → a live index. Written under _trackLock (one build at
    // a time, the limit exact), read without it by SourceFor.
    readonly ConcurrentDictionary<string, SyncIndex> _community = new(StringComparer.Ordinal);
    readonly Lock _trackLock = new();

    /// <summary>The live indexes of community scopes (<see cref="Track"/>), one per served pubsub topic of each.</summary>
    public IReadOnlyList<SyncIndex> CommunityIndexes => [.. _community.Values];

    /// <summary>Every live index: one per served pubsub topic, then the community scopes'.</summary>
    public IReadOnlyList<SyncIndex> AllIndexes => [.. _indexes.Values, .. _community.Values];

    static string CommunityKey(string pubsub, IEnumerable<string> contents) =>
        pubsub + "\n" + string.Join('\n', contents.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));

    /// <summary>
    /// Keeps a live index for a community scope the node syncs (its content topics on each of its served pubsub topics), so its
    /// sessions (either role) are answered in O(log n) like whole topics instead of reading the scope into memory per session.
    /// Loaded from its saved file when the store was not written since (as <see cref="Build"/> does; the node tracks its policy's
    /// scopes right after <see cref="Build"/>, before it listens), built from the store otherwise; then live on every insert and
    /// delete (eviction included: the same store observer as the per-topic indexes) and saved when the store closes. Only scopes of
    /// the node's own policy are tracked (the scheduler calls this), never a scope a peer names, and at most
    /// <see cref="SyncIndexLimits.MaxCommunityIndexes"/>; they are kept for the node's lifetime.
    /// </summary>
    /// <returns>True when every served pubsub topic of the scope now has its live index; false when the scope needs none (no content
    /// topics, or the node's own) or the limit was reached.</returns>
    public bool Track(SyncScope scope, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (!IsBuilt) throw new InvalidOperationException("the sync indexes are not built yet");
        if (scope.ContentTopics.Count == 0 || SameSet(scope.ContentTopics, _contentTopics)) return false;
        string[] contents = [.. scope.ContentTopics.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        bool all = true;
        foreach (var pubsub in scope.PubsubTopics.Where(_indexes.ContainsKey).Distinct(StringComparer.Ordinal))
        {
            string key = CommunityKey(pubsub, contents);
            if (_community.ContainsKey(key)) continue;
            lock (_trackLock)
            {
                if (_community.ContainsKey(key)) continue;
                if (_community.Count >= _limits.MaxCommunityIndexes)
                {
                    all = false;
                    continue;
                }
                var part = new SyncScope([pubsub], contents);
                var index = SyncIndex.Create(_store, pubsub, contents, ReadSaved(part, logger ?? _logger));
                _community[key] = index;
                Log(index, logger ?? _logger);
            }
        }
        return all;
    }

    /// <summary>Builds every index from the store (one snapshot scan each) and keeps them live; call once, before sessions start.</summary>
    public void Build(ILogger? logger = null)
    {
        if (IsBuilt) throw new InvalidOperationException("the sync indexes are already built");
        _logger = logger;
        long started = Stopwatch.GetTimestamp();
        foreach (var topic in PubsubTopics)
        {
            var index = SyncIndex.Create(_store, topic, _contentTopics, ReadSaved(new SyncScope([topic], _contentTopics), logger));
            _indexes[topic] = index;
            Log(index, logger);
        }
        BuildTime = Stopwatch.GetElapsedTime(started);
        IsBuilt = true;
        if (_directory is not null) _store.AddClosingHandler(Save);
    }

    static void Log(SyncIndex index, ILogger? logger)
    {
        if (logger is null) return;
        string scope = Describe(index.Scope);
        if (index.NotLoadedReason is { } reason)
            logger.LogInformation("Saved sync index of {Scope} not used ({Reason}): rebuilt from the store", scope, reason);
        logger.LogInformation("Sync index of {Scope}: {Items} messages {How} in {Seconds:0.000} s, {Bytes} bytes", scope, index.Count,
            index.Loaded ? "loaded from its saved file" : "built from the store", index.BuildTime.TotalSeconds, index.MemoryBytes);
    }

    static string Describe(SyncScope scope) =>
        scope.ContentTopics.Count == 0 ? scope.PubsubTopics[0] : $"{scope.PubsubTopics[0]} × [{string.Join(", ", scope.ContentTopics)}]";

    /// <summary>How many indexes (per topic and community) were taken from saved files.</summary>
    public int LoadedCount => AllIndexes.Count(i => i.Loaded);

    SyncIndexFile? ReadSaved(SyncScope scope, ILogger? logger)
    {
        if (_directory is null) return null;
        string path = SyncIndexFile.PathOf(_directory, scope);
        try { return SyncIndexFile.Read(path); }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            logger?.LogWarning("Saved sync index of {Scope} unreadable ({Reason}): rebuilt from the store", Describe(scope), e.Message);
            return null;
        }
    }

    // The store's closing handler: no write can follow, so each file is exact for the sequence number it carries. Files of scopes
    // no longer indexed (a community left or redefined) are removed, so the folder holds at most one file per live index.
    void Save(ulong sequence)
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var index in AllIndexes)
        {
            string path = SyncIndexFile.PathOf(_directory!, index.Scope);
            written.Add(Path.GetFileName(path));
            long started = Stopwatch.GetTimestamp();
            try
            {
                index.Save(path, sequence);
                _logger?.LogInformation("Sync index of {Scope} saved to {Path} ({Items} messages, {Seconds:0.000} s)", Describe(index.Scope), path, index.Count,
                    Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger?.LogWarning("Could not save the sync index of {Scope} to {Path} ({Reason}): it is rebuilt at the next start", Describe(index.Scope), path, e.Message);
            }
        }
        try
        {
            foreach (var stale in Directory.EnumerateFiles(_directory!, "*" + SyncIndexFile.Extension))
                if (!written.Contains(Path.GetFileName(stale))) File.Delete(stale);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger?.LogWarning("Could not remove stale sync index files in {Path} ({Reason})", _directory, e.Message);
        }
    }

    /// <summary>The index of one served pubsub topic.</summary>
    public SyncIndex this[string pubsubTopic] => _indexes[pubsubTopic];

    /// <summary>The item source of a scope agreed in a session (the engines' source function).</summary>
    /// <exception cref="SyncProtocolException">A narrowed scope holds more items than an in-memory source may.</exception>
    public ISyncItemSource SourceFor(SyncScope scope)
    {
        if (!IsBuilt) throw new InvalidOperationException("the sync indexes are not built yet");
        var pubsubs = scope.PubsubTopics.Count == 0 ? PubsubTopics : scope.PubsubTopics.Where(_indexes.ContainsKey).Distinct(StringComparer.Ordinal).ToArray();
        var narrowed = new SyncScope(pubsubs, scope.ContentTopics);
        if (!SameSet(scope.ContentTopics, _contentTopics)) return Community(narrowed) ?? AdHoc(narrowed);
        var parts = pubsubs.Select(p => _indexes[p]).ToArray();
        return parts.Length == 1 ? parts[0] : new CompositeSyncItemSource(parts, _store.SyncItems(narrowed));
    }

    // A community scope whose every pubsub topic has its tracked live index (exactly these content topics); null otherwise.
    ISyncItemSource? Community(SyncScope scope)
    {
        if (scope.PubsubTopics.Count == 0 || scope.ContentTopics.Count == 0) return null;
        var parts = new SyncIndex[scope.PubsubTopics.Count];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!_community.TryGetValue(CommunityKey(scope.PubsubTopics[i], scope.ContentTopics), out var index)) return null;
            parts[i] = index;
        }
        return parts.Length == 1 ? parts[0] : new CompositeSyncItemSource(parts, _store.SyncItems(scope));
    }

    ISyncItemSource AdHoc(SyncScope scope)
    {
        if (scope.PubsubTopics.Count == 0) return new MemorySyncItemSource();
        var items = new List<SyncItem>();
        if (!_store.SyncItems(scope).ReadAll(SyncItem.MinValue, SyncItem.MaxValue, items, _limits.MaxAdHocScopeItems))
            throw new SyncProtocolException($"the requested content-topic scope holds more than {_limits.MaxAdHocScopeItems} messages; sync it by pubsub topic");
        return new MemorySyncItemSource(items);
    }

    static bool SameSet(IReadOnlyList<string> a, IReadOnlyList<string> b) =>
        a.Count == b.Count && a.ToHashSet(StringComparer.Ordinal).SetEquals(b);

    /// <summary>Several pubsub topics' indexes as one source: counts and fingerprints add up, items are merged by the store.</summary>
    sealed class CompositeSyncItemSource(SyncIndex[] parts, IOrderedSyncItems items) : ISyncItemSource
    {
        public long Count => parts.Sum(p => p.Count);

        public Fingerprint GetFingerprint(in SyncItem from, in SyncItem to)
        {
            var fp = Fingerprint.Empty;
            foreach (var p in parts) fp = fp.Plus(p.GetFingerprint(from, to));
            return fp;
        }

        public void GetFingerprints(ReadOnlySpan<SyncItem> bounds, Span<Fingerprint> ranges)
        {
            if (bounds.Length < 2) return;
            ranges[..(bounds.Length - 1)].Clear();
            var part = ArrayPool<Fingerprint>.Shared.Rent(bounds.Length - 1);
            try
            {
                foreach (var p in parts)
                {
                    p.GetFingerprints(bounds, part);
                    for (int i = 0; i + 1 < bounds.Length; i++) ranges[i] = ranges[i].Plus(part[i]);
                }
            }
            finally { ArrayPool<Fingerprint>.Shared.Return(part); }
        }

        public long Rank(in SyncItem item)
        {
            long rank = 0;
            foreach (var p in parts) rank += p.Rank(item);
            return rank;
        }

        public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination) => items.Read(from, to, destination);
    }
}
