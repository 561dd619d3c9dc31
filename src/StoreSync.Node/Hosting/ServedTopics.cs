using StoreSync.Waku;

namespace StoreSync.Node.Hosting;

/// <summary>The configured pubsub topics, fixed at start.</summary>
public sealed class ServedTopics(IEnumerable<string> topics) : IServedTopics
{
    readonly HashSet<string> _topics = new(topics, StringComparer.Ordinal);

    public bool Serves(string pubsubTopic) => _topics.Contains(pubsubTopic);

    public IReadOnlyCollection<string> PubsubTopics => _topics;
}
