using StoreSync.Core.Wire;

namespace StoreSync.Reconciliation;

/// <summary>A peer sent a reconciliation frame that breaks the protocol or its limits; the session must end.</summary>
public sealed class SyncProtocolException(string reason) : ProtocolViolationException(reason);
