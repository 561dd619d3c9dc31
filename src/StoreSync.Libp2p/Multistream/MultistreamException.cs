using StoreSync.Core.Wire;

namespace StoreSync.Libp2p.Multistream;

/// <summary>Negotiation failed: no common protocol, or the peer broke the multistream-select 1.0 framing.</summary>
public sealed class MultistreamException(string message) : ProtocolViolationException(message);
