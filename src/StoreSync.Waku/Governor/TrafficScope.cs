using StoreSync.Core.Proto;

namespace StoreSync.Waku.Governor;

/// <summary>What a piece of history traffic is about: a pubsub topic and content topics (empty = any), or nothing known (null topic).</summary>
/// <remarks>The governor charges the traffic to every community the scope touches, and always to the node as a whole.</remarks>
public readonly record struct TrafficScope(string? PubsubTopic, IReadOnlyList<string> ContentTopics)
{
    /// <summary>Traffic about no particular topic (hash lookups, reconciliation before the scope is agreed): charged globally only.</summary>
    public static TrafficScope None => new(null, []);

    public static TrafficScope Of(string pubsubTopic, string contentTopic) => new(pubsubTopic, [contentTopic]);

    /// <summary>The scope of a store response, read from the messages it carries: their pubsub topic when they share one
    /// and their content topics. A response without data (hashes only, an error) is <see cref="None"/>.</summary>
    public static TrafficScope Of(StoreQueryResponse response)
    {
        string? pubsub = null;
        List<string>? content = null;
        foreach (var m in response.Messages)
        {
            if (!m.HasPubsubTopic || m.Message is null) return None;
            if (pubsub is null) pubsub = m.PubsubTopic;
            else if (!string.Equals(pubsub, m.PubsubTopic, StringComparison.Ordinal)) return None;
            content ??= [];
            if (!content.Contains(m.Message.ContentTopic, StringComparer.Ordinal)) content.Add(m.Message.ContentTopic);
        }
        return pubsub is null ? None : new TrafficScope(pubsub, content!);
    }
}
