using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>
/// A topic-based publish/subscribe router (gossipsub). It knows topics and bytes, not what they carry:
/// the application supplies the message-id function (in the router's options) and one validator per topic.
/// </summary>
public interface IPubsub
{
    /// <summary>Joins a topic: announces the subscription and builds a mesh for it.</summary>
    void Subscribe(string topic);

    /// <summary>Leaves a topic: announces it, prunes the mesh, stops delivering its messages.</summary>
    void Unsubscribe(string topic);

    /// <summary>The topics this router is subscribed to.</summary>
    IReadOnlyCollection<string> Subscriptions { get; }

    /// <summary>Sets (or with null removes) the validator run before a message on the topic is delivered or forwarded.</summary>
    void SetValidator(string topic, TopicValidator? validator);

    /// <summary>
    /// Publishes data on a topic (subscribed or not, through fanout then). The local validator runs first;
    /// returns the number of peers the message was sent to (0 when none could be reached).
    /// </summary>
    /// <exception cref="PubsubPublishException">Rejected by the validator, a duplicate, or too large.</exception>
    ValueTask<int> PublishAsync(string topic, ReadOnlyMemory<byte> data, CancellationToken ct);

    /// <summary>Raised once per accepted message id on a subscribed topic, including our own publishes.</summary>
    event Action<PubsubMessage>? MessageDelivered;

    /// <summary>Peers in our mesh for the topic.</summary>
    IReadOnlyCollection<PeerId> MeshPeers(string topic);

    /// <summary>Connected peers that speak the router's protocol and are subscribed to the topic.</summary>
    IReadOnlyCollection<PeerId> TopicPeers(string topic);
}
