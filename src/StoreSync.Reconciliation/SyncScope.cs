namespace StoreSync.Reconciliation;

/// <summary>Which messages a session reconciles: pubsub topics and content topics, an empty list meaning all.</summary>
public sealed record SyncScope(IReadOnlyList<string> PubsubTopics, IReadOnlyList<string> ContentTopics)
{
    public static SyncScope All { get; } = new([], []);

    /// <summary>nwaku's topic rule: both sides non-empty ⇒ intersection; otherwise the non-empty side; null if disjoint.</summary>
    public SyncScope? Intersect(IReadOnlyList<string> remotePubsub, IReadOnlyList<string> remoteContent)
    {
        var pubsub = Combine(PubsubTopics, remotePubsub);
        var content = Combine(ContentTopics, remoteContent);
        return pubsub is null || content is null ? null : new SyncScope(pubsub, content);
    }

    static IReadOnlyList<string>? Combine(IReadOnlyList<string> local, IReadOnlyList<string> remote)
    {
        if (local.Count == 0) return remote;
        if (remote.Count == 0) return local;
        var both = local.Intersect(remote, StringComparer.Ordinal).ToArray();
        return both.Length == 0 ? null : both;
    }

    public bool Equals(SyncScope? other) =>
        other is not null && PubsubTopics.SequenceEqual(other.PubsubTopics) && ContentTopics.SequenceEqual(other.ContentTopics);

    public override int GetHashCode() => HashCode.Combine(PubsubTopics.Count, ContentTopics.Count);
}
