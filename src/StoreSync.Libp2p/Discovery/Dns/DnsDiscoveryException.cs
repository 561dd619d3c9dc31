namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>A DNS discovery tree that cannot be used: a malformed or unsigned record, a hash mismatch, or a bound exceeded.</summary>
public sealed class DnsDiscoveryException(string name, string reason) : Exception($"{name}: {reason}")
{
    /// <summary>The DNS name (or URL) whose record was refused.</summary>
    public string Name { get; } = name;

    public string Reason { get; } = reason;
}
