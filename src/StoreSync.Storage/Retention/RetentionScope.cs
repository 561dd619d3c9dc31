using StoreSync.Reconciliation;

namespace StoreSync.Storage.Retention;

/// <summary>One pubsub topic of a retention scope and its content topics; an empty list means every content topic on it.</summary>
public sealed record ScopeTopics(string PubsubTopic, IReadOnlyList<string> ContentTopics)
{
    public bool Covers(string contentTopic) => ContentTopics.Count == 0 || ContentTopics.Contains(contentTopic, StringComparer.Ordinal);

    /// <summary>True when the two share a (pubsub, content) pair.</summary>
    public bool Overlaps(ScopeTopics other) =>
        string.Equals(PubsubTopic, other.PubsubTopic, StringComparison.Ordinal) &&
        (ContentTopics.Count == 0 || other.ContentTopics.Count == 0 || ContentTopics.Intersect(other.ContentTopics, StringComparer.Ordinal).Any());

    public bool Equals(ScopeTopics? other) =>
        other is not null && PubsubTopic == other.PubsubTopic && ContentTopics.SequenceEqual(other.ContentTopics, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(PubsubTopic, ContentTopics.Count);
}

/// <summary>
/// What retention counts and evicts as one unit (a community): a set of (pubsub topic, content topics) under a stable id. A
/// message belongs to it when its pubsub topic is listed and its content topic is in that entry's list (or the list is empty).
/// </summary>
public sealed record RetentionScope
{
    /// <summary>At most this many pubsub-topic entries and content topics in all: a scope lookup stays cheap on the ingest path.</summary>
    public const int MaxTopics = 4096;

    public RetentionScope(string id, IReadOnlyList<ScopeTopics> topics)
    {
        RetentionHorizons.CheckScopeId(id);
        ArgumentNullException.ThrowIfNull(topics);
        int count = 0;
        foreach (var t in topics)
        {
            if (t is null || string.IsNullOrEmpty(t.PubsubTopic)) throw new ArgumentException($"scope '{id}' has an entry without a pubsub topic", nameof(topics));
            ArgumentNullException.ThrowIfNull(t.ContentTopics);
            if (t.ContentTopics.Any(string.IsNullOrEmpty)) throw new ArgumentException($"scope '{id}' has an empty content topic on {t.PubsubTopic}", nameof(topics));
            count += 1 + t.ContentTopics.Count;
        }
        if (count > MaxTopics) throw new ArgumentException($"scope '{id}' lists {count} topics, at most {MaxTopics}", nameof(topics));
        for (int i = 0; i < topics.Count; i++)
            for (int j = i + 1; j < topics.Count; j++)
                if (topics[i].Overlaps(topics[j])) throw new ArgumentException($"scope '{id}' lists pubsub topic {topics[i].PubsubTopic} twice with overlapping content topics", nameof(topics));
        Id = id;
        Topics = topics;
    }

    public string Id { get; }

    public IReadOnlyList<ScopeTopics> Topics { get; }

    /// <summary>Every content topic of <paramref name="contentTopics"/> (empty = all) on each of <paramref name="pubsubTopics"/>.</summary>
    public static RetentionScope Of(string id, IReadOnlyList<string> pubsubTopics, IReadOnlyList<string> contentTopics) =>
        new(id, pubsubTopics.Distinct(StringComparer.Ordinal).Select(p => new ScopeTopics(p, contentTopics.Distinct(StringComparer.Ordinal).ToArray())).ToArray());

    public bool Covers(string pubsubTopic, string contentTopic)
    {
        foreach (var t in Topics)
            if (string.Equals(t.PubsubTopic, pubsubTopic, StringComparison.Ordinal) && t.Covers(contentTopic)) return true;
        return false;
    }

    /// <summary>True when the two scopes share a (pubsub, content) pair.</summary>
    public bool Overlaps(RetentionScope other) => Topics.Any(a => other.Topics.Any(a.Overlaps));

    /// <summary>True when a sync scope (nwaku's rule: empty list = all) can hold a message of this scope.</summary>
    public bool Overlaps(SyncScope sync)
    {
        ArgumentNullException.ThrowIfNull(sync);
        foreach (var t in Topics)
        {
            if (sync.PubsubTopics.Count > 0 && !sync.PubsubTopics.Contains(t.PubsubTopic, StringComparer.Ordinal)) continue;
            if (sync.ContentTopics.Count == 0 || t.ContentTopics.Count == 0 || sync.ContentTopics.Any(t.Covers)) return true;
        }
        return false;
    }

    public bool Equals(RetentionScope? other) => other is not null && Id == other.Id && Topics.SequenceEqual(other.Topics);

    public override int GetHashCode() => HashCode.Combine(Id, Topics.Count);
}
