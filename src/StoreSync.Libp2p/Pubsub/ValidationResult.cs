namespace StoreSync.Libp2p.Pubsub;

/// <summary>What a topic validator decides about a message, as gossipsub's extended validators define it.</summary>
public enum ValidationResult
{
    /// <summary>Deliver to the application and forward to the mesh.</summary>
    Accept,

    /// <summary>Neither deliver nor forward; the sender is not penalised.</summary>
    Ignore,

    /// <summary>Neither deliver nor forward; the sender's score pays the invalid-message penalty.</summary>
    Reject,
}
