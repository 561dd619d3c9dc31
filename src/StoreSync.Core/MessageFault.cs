namespace StoreSync.Core;

/// <summary>Which rule of <see cref="MessageValidator"/> a message broke.</summary>
public enum MessageFault
{
    None, PubsubTopic, Missing, ContentTopic, TooLarge, MetaTooLong,

    /// <summary>Valid to carry, never stored.</summary>
    Ephemeral,

    /// <summary>No timestamp, an implausible one, or one too far in the future.</summary>
    Timestamp,
}
