namespace StoreSync.Libp2p.Discovery.Rlp;

/// <summary>Bytes that are not canonical RLP, or not the shape the reader asked for (truncated, over-long, wrong kind).</summary>
public sealed class RlpException(string message) : FormatException(message);
