namespace StoreSync.Waku.Relay;

/// <summary>A publish this node refused or the router could not make, with the reason.</summary>
public sealed class RelayPublishException(string pubsubTopic, string reason, Exception? inner = null)
    : Exception($"relay publish on {pubsubTopic} refused: {reason}", inner)
{
    public string PubsubTopic { get; } = pubsubTopic;

    public string Reason { get; } = reason;
}
