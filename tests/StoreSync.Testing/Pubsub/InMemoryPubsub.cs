using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Pubsub;

namespace StoreSync.Testing.Pubsub;

/// <summary>An <see cref="IPubsub"/> in memory for tests of what runs above the router: routers joined to one
/// <see cref="InMemoryPubsubNetwork"/> are all each other's mesh peers; a message is validated once per id at each router
/// and forwarded only when its validator accepts it, so tests can see what Ignore and Reject keep from spreading.</summary>
/// <remarks>Not gossipsub: no mesh maintenance, gossip, scores or wire format. Delivery is synchronous within
/// <see cref="PublishAsync"/> (awaiting the validators), which keeps tests deterministic.</remarks>
public sealed class InMemoryPubsub : IPubsub
{
    readonly InMemoryPubsubNetwork _network;
    readonly MessageIdFunction _messageId;
    readonly HashSet<string> _topics = new(StringComparer.Ordinal);
    readonly Dictionary<string, TopicValidator> _validators = new(StringComparer.Ordinal);
    readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    public InMemoryPubsub(InMemoryPubsubNetwork network, MessageIdFunction messageId, PeerId? id = null)
    {
        _network = network;
        _messageId = messageId;
        Id = id ?? IdentityKey.Generate(KeyType.Ed25519).PeerId;
        network.Join(this);
    }

    public PeerId Id { get; }

    /// <summary>What each validation returned, in order (topic, result, sender).</summary>
    public List<(string Topic, ValidationResult Result, PeerId From)> Validations { get; } = [];

    /// <summary>Messages this router forwarded to others (counted per receiving router).</summary>
    public int Forwarded { get; private set; }

    public IReadOnlyCollection<string> Subscriptions { get { lock (_topics) return [.. _topics]; } }

    public event Action<PubsubMessage>? MessageDelivered;

    public void Subscribe(string topic) { lock (_topics) _topics.Add(topic); }

    public void Unsubscribe(string topic) { lock (_topics) _topics.Remove(topic); }

    public void SetValidator(string topic, TopicValidator? validator)
    {
        lock (_validators)
        {
            if (validator is null) _validators.Remove(topic);
            else _validators[topic] = validator;
        }
    }

    bool IsSubscribed(string topic) { lock (_topics) return _topics.Contains(topic); }

    public IReadOnlyCollection<PeerId> MeshPeers(string topic) => [.. _network.Others(this).Where(p => p.IsSubscribed(topic)).Select(p => p.Id)];

    public IReadOnlyCollection<PeerId> TopicPeers(string topic) => MeshPeers(topic);

    public async ValueTask<int> PublishAsync(string topic, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (!_messageId(topic, data.Span, out var id)) throw new PubsubPublishException(topic, "no message id");
        var message = new PubsubMessage(topic, data.ToArray(), id, Id);
        var result = await ReceiveAsync(message, ct).ConfigureAwait(false);
        if (result is null) throw new PubsubPublishException(topic, "duplicate");
        if (result != ValidationResult.Accept) throw new PubsubPublishException(topic, $"validator: {result}");
        return await ForwardAsync(message, ct).ConfigureAwait(false);
    }

    /// <summary>Validates (once per id) and delivers; null for a message already seen.</summary>
    async ValueTask<ValidationResult?> ReceiveAsync(PubsubMessage message, CancellationToken ct)
    {
        lock (_seen)
        {
            if (!_seen.Add(Convert.ToHexString(message.MessageId.Span))) return null;
        }
        TopicValidator? validator;
        lock (_validators) _validators.TryGetValue(message.Topic, out validator);
        var result = validator is null ? ValidationResult.Accept : await validator(message, ct).ConfigureAwait(false);
        lock (Validations) Validations.Add((message.Topic, result, message.ReceivedFrom));
        if (result == ValidationResult.Accept && IsSubscribed(message.Topic)) MessageDelivered?.Invoke(message);
        return result;
    }

    async ValueTask<int> ForwardAsync(PubsubMessage message, CancellationToken ct)
    {
        int sent = 0;
        foreach (var peer in _network.Others(this))
        {
            if (!peer.IsSubscribed(message.Topic)) continue;
            sent++;
            Forwarded++;
            var relayed = message with { ReceivedFrom = Id };
            if (await peer.ReceiveAsync(relayed, ct).ConfigureAwait(false) == ValidationResult.Accept)
                await peer.ForwardAsync(relayed, ct).ConfigureAwait(false);
        }
        return sent;
    }
}
