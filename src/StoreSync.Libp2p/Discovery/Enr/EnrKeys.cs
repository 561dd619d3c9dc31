namespace StoreSync.Libp2p.Discovery.Enr;

/// <summary>The keys EIP-778 predefines, and the "v4" identity scheme's name.</summary>
public static class EnrKeys
{
    public const string Id = "id";
    public const string Secp256k1 = "secp256k1";
    public const string Ip = "ip";
    public const string Tcp = "tcp";
    public const string Udp = "udp";
    public const string Ip6 = "ip6";
    public const string Tcp6 = "tcp6";
    public const string Udp6 = "udp6";

    /// <summary>The only identity scheme defined: secp256k1 keys, keccak256 digests, 64-byte r ‖ s signatures.</summary>
    public const string V4 = "v4";

    /// <summary>EIP-778: "The maximum encoded size of a node record is 300 bytes."</summary>
    public const int MaxRecordLength = 300;
}
