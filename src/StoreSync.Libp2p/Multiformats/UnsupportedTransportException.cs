namespace StoreSync.Libp2p.Multiformats;

/// <summary>A multiaddr that this node cannot dial (only TCP over ip4/ip6/dns/dns4/dns6 is supported).</summary>
public sealed class UnsupportedTransportException : Exception
{
    public UnsupportedTransportException(string message) : base(message) { }
}
