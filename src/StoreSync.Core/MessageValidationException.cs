namespace StoreSync.Core;

/// <summary>A message, topic or timestamp that a store node must not accept; the message says why.</summary>
public sealed class MessageValidationException(string message) : Exception(message);
