using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StoreSync.Reconciliation;
using StoreSync.Storage;

namespace StoreSync.Waku.Sync;

/// <summary>The node's sync scopes: one live <see cref="SyncIndex"/> per served pubsub topic, and the item source of any scope a session agrees on.</summary>
/// <remarks>
/// A session's scope is the intersection of both sides' topic lists (nwaku's rule). Scopes made of whole served pubsub topics
/// are answered by summing their indexes (XOR and counts add over disjoint sets). A peer that narrows to content topics we do
/// not index gets an in-memory source read from the store for that session, at most <see cref="SyncNetworkLimits.MaxAdHocScopeItems"/> items.
/// </remarks>
public sealed class SyncIndexes
{
    readonly MessageStore _store;
    readonly Dictionary<string, SyncIndex> _indexes = new(StringComparer.Ordinal);
    readonly IReadOnlyList<string> _contentTopics;
    readonly SyncNetworkLimits _limits;

    readonly string? _directory;
    ILogger? _logger;

    /// <param name="directory">Where the indexes are saved when the store closes and loaded from at the next <see cref="Build"/>
    /// (spec/sync.md §5.2); null: rebuilt from the store at every start.</param>
    public SyncIndexes(MessageStore store, IEnumerable<string> pubsubTopics, IReadOnlyList<string>? contentTopics = null, SyncNetworkLimits? limits = null,
        string? directory = null)
    {
        _store = store;
        _directory = directory;
        _contentTopics = contentTopics ?? [];
        _limits = limits ?? SyncNetworkLimits.Default;
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

    /// <summary>Builds every index from the store (one snapshot scan each) and keeps them live; call once, before sessions start.</summary>
    public void Build(ILogger? logger = null)
    {
        if (IsBuilt) throw new InvalidOperationException("the sync indexes are already built");
        _logger = logger;
        long started = Stopwatch.GetTimestamp();
        foreach (var topic in PubsubTopics)
        {
            var index = SyncIndex.Create(_store, topic, _contentTopics, ReadSaved(topic, logger));
            _indexes[topic] = index;
            if (index.NotLoadedReason is { } reason)
                logger?.LogInformation("Saved sync index of {PubsubTopic} not used ({Reason}): rebuilt from the store", topic, reason);
            logger?.LogInformation("Sync index of {PubsubTopic}: {Items} messages {How} in {Seconds:0.000} s, {Bytes} bytes", topic, index.Count,
                index.Loaded ? "loaded from its saved file" : "built from the store", index.BuildTime.TotalSeconds, index.MemoryBytes);
        }
        BuildTime = Stopwatch.GetElapsedTime(started);
        IsBuilt = true;
        if (_directory is not null) _store.AddClosingHandler(Save);
    }

    /// <summary>How many indexes <see cref="Build"/> took from saved files.</summary>
    public int LoadedCount => _indexes.Values.Count(i => i.Loaded);

    SyncIndexFile? ReadSaved(string topic, ILogger? logger)
    {
        if (_directory is null) return null;
        string path = SyncIndexFile.PathOf(_directory, new SyncScope([topic], _contentTopics));
        try { return SyncIndexFile.Read(path); }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            logger?.LogWarning("Saved sync index of {PubsubTopic} unreadable ({Reason}): rebuilt from the store", topic, e.Message);
            return null;
        }
    }

    // The store's closing handler: no write can follow, so each file is exact for the sequence number it carries.
    void Save(ulong sequence)
    {
        foreach (var index in _indexes.Values)
        {
            string path = SyncIndexFile.PathOf(_directory!, index.Scope);
            long started = Stopwatch.GetTimestamp();
            try
            {
                index.Save(path, sequence);
                _logger?.LogInformation("Sync index of {PubsubTopic} saved to {Path} ({Items} messages, {Seconds:0.000} s)", index.PubsubTopic, path, index.Count,
                    Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger?.LogWarning("Could not save the sync index of {PubsubTopic} to {Path} ({Reason}): it is rebuilt at the next start", index.PubsubTopic, path, e.Message);
            }
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
        if (!SameSet(scope.ContentTopics, _contentTopics)) return AdHoc(narrowed);
        var parts = pubsubs.Select(p => _indexes[p]).ToArray();
        return parts.Length == 1 ? parts[0] : new CompositeSyncItemSource(parts, _store.SyncItems(narrowed));
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
