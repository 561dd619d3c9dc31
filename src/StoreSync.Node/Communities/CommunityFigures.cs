using System.Diagnostics.Metrics;
using StoreSync.Storage;
using StoreSync.Waku.Communities;

namespace StoreSync.Node.Communities;

/// <summary>What one community holds and how it is served: the figures of <c>GET /admin/v1/communities</c> and of the community metrics.</summary>
public sealed record CommunityFigures(
    CommunityDefinition Definition,
    CommunityServingState State,
    long StoredMessages,
    long StoredBytes,
    long? Oldest,
    long? Newest,
    CommunityCounters Counters,
    CommunityDataDeletion? Deletion,
    bool LimitsEnforced,
    string LimitsNote,
    long? RetentionHorizon);

/// <summary>Computes community figures from the store's per-topic statistics, cached until the store changes (at most a second).</summary>
/// <remarks>
/// A message held by two overlapping communities counts in both. The statistics walk costs two index seeks per
/// (pubsub, content) pair in the store, whatever the number of messages.
/// </remarks>
public sealed class CommunityFiguresSource : IMessageStoreObserver
{
    static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);

    readonly MessageStore _store;
    readonly CommunityRegistry _registry;
    readonly TimeProvider _clock;
    readonly Lock _lock = new();
    (long Stamp, long Version, StoreStatistics Statistics)? _cached;
    long _version;

    public CommunityFiguresSource(MessageStore store, CommunityRegistry registry, TimeProvider? clock = null)
    {
        _store = store;
        _registry = registry;
        _clock = clock ?? TimeProvider.System;
        // Any committed insert or delete invalidates the cache, so figures read after a change include it.
        store.AddObserver(this);
    }

    void IMessageStoreObserver.OnInserted(IReadOnlyList<StoreChange> changes) => Interlocked.Increment(ref _version);

    void IMessageStoreObserver.OnDeleted(IReadOnlyList<StoreChange> changes) => Interlocked.Increment(ref _version);

    public IReadOnlyList<CommunityFigures> All()
    {
        var statistics = Statistics();
        return [.. _registry.Communities.Select(c => Of(c, statistics))];
    }

    public CommunityFigures Of(string name) => Of(_registry.Get(name), Statistics());

    CommunityFigures Of(CommunityDefinition community, StoreStatistics statistics)
    {
        var policy = _registry.Policy;
        string? control = community.OwnerKey is null ? null : CommunityControl.ContentTopicFor(community.OwnerKey);
        long messages = 0, bytes = 0;
        long? oldest = null, newest = null;
        foreach (var pubsub in statistics.PubsubTopics)
        {
            if (!community.PubsubTopics.Contains(pubsub.PubsubTopic, StringComparer.Ordinal)) continue;
            foreach (var content in pubsub.ContentTopics)
            {
                if (community.ContentTopics.Count > 0 && content.ContentTopic != control && !community.ContentTopics.Contains(content.ContentTopic, StringComparer.Ordinal)) continue;
                messages += content.Messages;
                bytes += content.Bytes;
                if (content.Oldest is { } o && (oldest is null || o < oldest)) oldest = o;
                if (content.Newest is { } n && (newest is null || n > newest)) newest = n;
            }
        }
        string note = !_registry.LimitsEnforced ? "no evictor runs on this store"
            : _registry.Retention.NotEnforced.GetValueOrDefault(community.Name) ?? "";
        return new CommunityFigures(community, policy.StateOf(community), messages, bytes, oldest, newest, policy.CountersOf(community.Name),
            _registry.DeletionOf(community.Name), note.Length == 0, note, _store.GetRetentionHorizon(community.Name)?.Timestamp);
    }

    StoreStatistics Statistics()
    {
        lock (_lock)
        {
            long now = _clock.GetTimestamp();
            long version = Interlocked.Read(ref _version);
            if (_cached is { } c && c.Version == version && _clock.GetElapsedTime(c.Stamp, now) < CacheFor) return c.Statistics;
            var statistics = _store.GetStatistics();
            _cached = (now, version, statistics);
            return statistics;
        }
    }

    /// <summary>The gauges of <see cref="CommunityMetrics"/>: stored messages and bytes, oldest and newest timestamps, serving state, per community.</summary>
    public void RegisterGauges(CommunityMetrics metrics)
    {
        metrics.ObserveGauge("storesync_community_messages", "{message}", "Messages stored of a community",
            () => All().Select(f => new Measurement<long>(f.StoredMessages, Tag(f))));
        metrics.ObserveGauge("storesync_community_bytes", "By", "Bytes stored of a community",
            () => All().Select(f => new Measurement<long>(f.StoredBytes, Tag(f))));
        // Unix seconds (Prometheus' convention for timestamps); a double keeps sub-microsecond precision for any date of this century.
        metrics.ObserveGauge("storesync_community_oldest_timestamp", "s", "Timestamp of the oldest stored message of a community (Unix seconds)",
            () => All().Where(f => f.Oldest is not null).Select(f => new Measurement<double>(f.Oldest!.Value / 1e9, Tag(f))));
        metrics.ObserveGauge("storesync_community_newest_timestamp", "s", "Timestamp of the newest stored message of a community (Unix seconds)",
            () => All().Where(f => f.Newest is not null).Select(f => new Measurement<double>(f.Newest!.Value / 1e9, Tag(f))));
        metrics.ObserveGauge("storesync_community_opted_in", "", "1 when the operator opted in to the community",
            () => All().Select(f => new Measurement<long>(f.State.OptedIn ? 1 : 0, Tag(f))));
        metrics.ObserveGauge("storesync_community_owner_serving", "", "0 when the owner's signed switch turned serving off",
            () => All().Select(f => new Measurement<long>(f.State.OwnerServing ? 1 : 0, Tag(f))));
        metrics.ObserveGauge("storesync_community_serving", "", "1 when the community is served and synced now",
            () => All().Select(f => new Measurement<long>(f.State.Serving ? 1 : 0, Tag(f))));
        metrics.ObserveGauge("storesync_community_max_bytes", "By", "Configured byte limit of a community (0 = none)",
            () => All().Select(f => new Measurement<long>(f.Definition.MaxBytes, Tag(f))));
    }

    static KeyValuePair<string, object?> Tag(CommunityFigures f) => new("community", f.Definition.Name);
}
