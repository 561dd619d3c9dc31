using StoreSync.Core;
using StoreSync.Reconciliation;

namespace StoreSync.Storage.Retention;

/// <summary>Where sync starts: per scope the first timestamp a session covers, the highest start of the retention scopes it
/// overlaps, whether a message was evicted on purpose, and what backfill may still fetch (spec/sync.md §4, §5.6).</summary>
/// <remarks>
/// Everything here is read from the horizons the <see cref="Evictor"/> records when it evicts (newest victim per retention scope,
/// persisted with the store) and from its configuration; the evictor itself only plans and commits eviction. The rule for one
/// retention scope is <see cref="StartAbove"/> and <see cref="IsEvicted(RetentionHorizon?, long, in MessageHash)"/>; the
/// simulator applies the same two to its simulated nodes' horizons.
/// </remarks>
public sealed class SyncHorizon
{
    readonly Evictor? _evictor;
    readonly long _slackBytes;

    /// <param name="evictor">The store's evictor, whose configuration and recorded horizons are read.</param>
    /// <param name="slackBytes">How close to its limit a scope counts as full: the largest message (capped at a 16th of the
    /// limit), since after eviction a full scope holds between limit − one message and the limit.</param>
    public SyncHorizon(Evictor evictor, long slackBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(evictor);
        _evictor = evictor;
        _slackBytes = slackBytes;
    }

    SyncHorizon() { }

    /// <summary>Keeps everything: every scope starts at <see cref="long.MinValue"/>, nothing was evicted, nothing is limited.</summary>
    public static SyncHorizon None { get; } = new();

    /// <summary>The first timestamp a sync over one retention scope covers: just above its newest message evicted on purpose
    /// (<see cref="RetentionHorizon.SyncStart"/>); <see cref="long.MinValue"/> when it has no horizon.</summary>
    public static long StartAbove(RetentionHorizon? horizon) => horizon is { } h ? h.SyncStart : long.MinValue;

    /// <summary>True when (timestamp, hash) is at or below the horizon: evicted on purpose, not to be stored again.</summary>
    public static bool IsEvicted(RetentionHorizon? horizon, long timestamp, in MessageHash hash) =>
        horizon is { } h && h.Covers(timestamp, hash);

    /// <summary>
    /// The first timestamp a time-range sync over <paramref name="scope"/> may start at without losing anything the scope can
    /// hold: the lowest <see cref="StartAbove"/> over every (pubsub, content) the scope covers, where a pair in no configured
    /// scope, or in one without a horizon, counts as <see cref="long.MinValue"/> (nothing evicted). A scope within one
    /// retention scope gets exactly that scope's start; a scope spanning several (a whole shard of several communities) gets
    /// the oldest, and what it then brings below another community's horizon is refused per message (<see cref="IsEvicted(string, string, long, in MessageHash)"/>,
    /// the same test as the store's ingress check). An empty pubsub list (every topic) counts as <see cref="long.MinValue"/>.
    /// </summary>
    public long StartOf(SyncScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (_evictor is null || scope.PubsubTopics.Count == 0) return long.MinValue;
        var configuration = _evictor.Configuration;
        long start = long.MaxValue;
        foreach (var pubsub in scope.PubsubTopics)
        {
            if (scope.ContentTopics.Count == 0) start = Math.Min(start, StartOfScope(configuration.IndexOfWholeTopic(pubsub)));
            else
                foreach (var content in scope.ContentTopics) start = Math.Min(start, StartOfScope(configuration.IndexOf(pubsub, content)));
            if (start == long.MinValue) break;
        }
        return start;

        long StartOfScope(int i) => i < 0 ? long.MinValue : StartAbove(_evictor.GetRetentionHorizon(configuration.Scopes[i].Scope.Id));
    }

    /// <summary>
    /// The highest <see cref="StartAbove"/> among the configured scopes <paramref name="scope"/> overlaps (so nothing any of them
    /// evicted on purpose is fetched again); <see cref="long.MinValue"/> when none has a horizon. It rises whenever eviction takes
    /// something from one of them, which is how a backfill walk sees that its scope reached a limit. A session starting here
    /// would lose what the other scopes keep below it: sessions start at <see cref="StartOf"/>.
    /// </summary>
    public long HighestStartOf(SyncScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (_evictor is null) return long.MinValue;
        long start = long.MinValue;
        foreach (var s in _evictor.Configuration.Scopes)
            if (_evictor.GetRetentionHorizon(s.Scope.Id) is { } h && s.Scope.Overlaps(scope)) start = Math.Max(start, h.SyncStart);
        return start;
    }

    /// <summary>True when one message was evicted on purpose: it is at or below the horizon of the retention scope its
    /// (pubsub, content topic) belongs to, so a transfer must not store it again. Per message, whatever scope a session covered.</summary>
    public bool IsEvicted(string pubsubTopic, string contentTopic, long timestamp, in MessageHash hash) =>
        _evictor is not null && IsEvicted(_evictor.GetRetentionHorizon(pubsubTopic, contentTopic), timestamp, hash);

    /// <summary>Whether a storage limit (of a retention scope the scope touches, or the global one) bounds what the scope may hold;
    /// such a scope's whole history is backfilled newest first and stops at the limit.</summary>
    public bool IsLimited(SyncScope scope)
    {
        if (_evictor is null) return false;
        var configuration = _evictor.Configuration;
        return configuration.GlobalMaxBytes is not null
            || configuration.Scopes.Any(s => s.Policies.OfType<SizeRetentionPolicy>().Any() && s.Scope.Overlaps(scope));
    }

    /// <summary>Whether a limit that bounds the scope is reached now (within one message of it): backfill fetches no older history.</summary>
    public bool IsFull(SyncScope scope)
    {
        if (_evictor is null) return false;
        var configuration = _evictor.Configuration;
        var figures = _evictor.GetScopeFigures();
        if (configuration.GlobalMaxBytes is { } global && figures.Values.Sum(f => f.Bytes) >= global - Slack(global)) return true;
        foreach (var s in configuration.Scopes)
        {
            if (!s.Scope.Overlaps(scope)) continue;
            foreach (var size in s.Policies.OfType<SizeRetentionPolicy>())
                if (figures.GetValueOrDefault(s.Scope.Id).Bytes >= size.MaxBytes - Slack(size.MaxBytes)) return true;
        }
        return false;
    }

    long Slack(long limit) => Math.Min(_slackBytes, limit / 16);
}
