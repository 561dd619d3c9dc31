namespace StoreSync.Waku;

/// <summary>The pubsub topics this node stores and serves (its configured shards and named topics).</summary>
public interface IServedTopics
{
    bool Serves(string pubsubTopic);

    IReadOnlyCollection<string> PubsubTopics { get; }
}
