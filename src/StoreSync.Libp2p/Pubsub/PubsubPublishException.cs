namespace StoreSync.Libp2p.Pubsub;

/// <summary>A local publish that the router refused, with the reason.</summary>
public sealed class PubsubPublishException(string topic, string reason) : Exception($"publish on {topic} refused: {reason}")
{
    public string Topic { get; } = topic;

    public string Reason { get; } = reason;
}
