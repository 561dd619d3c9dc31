using StoreSync.Core.Proto;

namespace StoreSync.Waku.Relay;

/// <summary>The last messages relay delivered per pubsub topic, for <c>GET /relay/v1/messages/{topic}</c>, which returns and
/// clears them as nwaku's REST relay cache does.</summary>
/// <remarks>Only topics subscribed through REST are kept (nwaku caches the topics a REST client subscribed to); at most
/// <see cref="RelayLimits.RestCacheMessagesPerTopic"/> per topic, the oldest dropped first.</remarks>
public sealed class RelayMessageCache(int perTopic = RelayLimits.RestCacheMessagesPerTopic)
{
    readonly Dictionary<string, Queue<WakuMessage>> _topics = new(StringComparer.Ordinal);

    public void Watch(string pubsubTopic)
    {
        lock (_topics) _topics.TryAdd(pubsubTopic, new Queue<WakuMessage>());
    }

    public void Unwatch(string pubsubTopic)
    {
        lock (_topics) _topics.Remove(pubsubTopic);
    }

    public bool IsWatched(string pubsubTopic)
    {
        lock (_topics) return _topics.ContainsKey(pubsubTopic);
    }

    /// <summary>Topics watched now.</summary>
    public int Count
    {
        get { lock (_topics) return _topics.Count; }
    }

    /// <summary>The topics watched now.</summary>
    public IReadOnlyList<string> Watched
    {
        get { lock (_topics) return [.. _topics.Keys]; }
    }

    public void Add(string pubsubTopic, WakuMessage message)
    {
        lock (_topics)
        {
            if (!_topics.TryGetValue(pubsubTopic, out var queue)) return;
            if (queue.Count >= perTopic) queue.Dequeue();
            queue.Enqueue(message);
        }
    }

    /// <summary>The messages cached for the topic, oldest first, and clears them; null when the topic is not watched.</summary>
    public IReadOnlyList<WakuMessage>? Take(string pubsubTopic)
    {
        lock (_topics)
        {
            if (!_topics.TryGetValue(pubsubTopic, out var queue)) return null;
            var messages = queue.ToArray();
            queue.Clear();
            return messages;
        }
    }
}
