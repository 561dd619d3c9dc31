namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>A DNS discovery tree that cannot be used: a malformed or unsigned record, a hash mismatch, or a bound exceeded.</summary>
public sealed class DnsDiscoveryException(string name, string reason, bool badSignature = false) : Exception($"{name}: {reason}")
{
    /// <summary>The DNS name (or URL) whose record was refused.</summary>
    public string Name { get; } = name;

    public string Reason { get; } = reason;

    /// <summary>The tree's root was read but is not signed by the URL's key: the publisher is not who the URL names, so
    /// the tree is refused, not merely unreachable.</summary>
    public bool BadSignature { get; } = badSignature;
}
