namespace StoreSync.Waku.Governor;

/// <summary>What a piece of history traffic is about: a pubsub topic and content topics (empty = any), or nothing known (null topic).</summary>
/// <remarks>The governor charges the traffic to every community the scope touches, and always to the node as a whole.</remarks>
public readonly record struct TrafficScope(string? PubsubTopic, IReadOnlyList<string> ContentTopics)
{
    /// <summary>Traffic about no particular topic (hash lookups, reconciliation before the scope is agreed): charged globally only.</summary>
    public static TrafficScope None => new(null, []);

    public static TrafficScope Of(string pubsubTopic, string contentTopic) => new(pubsubTopic, [contentTopic]);
}
