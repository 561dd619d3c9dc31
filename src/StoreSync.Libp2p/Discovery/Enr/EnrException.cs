namespace StoreSync.Libp2p.Discovery.Enr;

/// <summary>A node record that is malformed, badly signed, too long, or cannot be built as asked.</summary>
public sealed class EnrException(string message) : FormatException(message);
