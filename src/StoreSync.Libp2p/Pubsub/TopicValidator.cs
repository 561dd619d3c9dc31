namespace StoreSync.Libp2p.Pubsub;

/// <summary>Decides whether a message on a topic is delivered and forwarded; runs once per message id.</summary>
public delegate ValueTask<ValidationResult> TopicValidator(PubsubMessage message, CancellationToken ct);
