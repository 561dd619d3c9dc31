namespace StoreSync.Libp2p.Discovery.Dns;

/// <summary>The sizes EIP-1459 fixes and the bounds this client keeps to while walking a tree somebody else publishes.</summary>
public static class DnsDiscoveryLimits
{
    /// <summary>Subtree hashes are base32 of a Keccak-256 prefix: at least 12 bytes (go-ethereum's minimum), at most 32.</summary>
    public const int MinHashLength = 12;
    public const int MaxHashLength = 32;

    /// <summary>The root signature: 64-byte r ‖ s and a recovery byte.</summary>
    public const int RootSignatureLength = 65;

    /// <summary>A compressed secp256k1 public key, as the tree URL carries it.</summary>
    public const int PublicKeyLength = 33;

    /// <summary>No TXT record (all its strings joined) longer than this is parsed; a 300-byte ENR is ~404 characters of text.</summary>
    public const int MaxRecordTextLength = 2048;

    /// <summary>A branch with more children than this is refused (a 2048-character record holds at most ~75 hashes).</summary>
    public const int MaxBranchChildren = 80;

    /// <summary>How deep branches may nest below a root before the walk refuses to go further.</summary>
    public const int MaxDepth = 16;

    /// <summary>The most DNS lookups one walk makes, over all linked trees together.</summary>
    public const int MaxLookups = 2000;

    /// <summary>The most node records one walk returns.</summary>
    public const int MaxRecords = 1000;

    /// <summary>The most trees (the given one and those it links to, transitively) one walk visits.</summary>
    public const int MaxTrees = 16;

    /// <summary>A domain name on the wire is at most 255 bytes (RFC 1035 §2.3.4), a label at most 63.</summary>
    public const int MaxNameLength = 253;
    public const int MaxLabelLength = 63;

    /// <summary>The UDP payload size we advertise with EDNS(0) and the largest datagram we read.</summary>
    public const int MaxUdpResponseLength = 4096;

    /// <summary>The largest DNS answer read over TCP (after a truncated UDP answer).</summary>
    public const int MaxTcpResponseLength = 16 * 1024;

    /// <summary>Each query waits this long for an answer before the next try.</summary>
    public static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Each query is sent at most this many times per name server.</summary>
    public const int QueryAttempts = 2;
}
