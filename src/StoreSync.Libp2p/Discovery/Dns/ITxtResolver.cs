namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>Looks up the TXT records of a name; what the tree walk needs of DNS.</summary>
public interface ITxtResolver
{
    /// <summary>The TXT records of <paramref name="name"/>, each with its strings joined; empty if there are none.</summary>
    /// <exception cref="DnsDiscoveryException">No name server gave a usable answer.</exception>
    Task<IReadOnlyList<string>> ResolveTxtAsync(string name, CancellationToken cancellationToken);
}
