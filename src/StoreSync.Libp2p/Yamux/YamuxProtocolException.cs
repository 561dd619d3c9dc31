using StoreSync.Core.Wire;

namespace StoreSync.Libp2p.Yamux;

/// <summary>The peer broke the yamux protocol (bad header, window violation, oversized frame, wrong stream id parity...).</summary>
public sealed class YamuxProtocolException(string message) : ProtocolViolationException(message);
