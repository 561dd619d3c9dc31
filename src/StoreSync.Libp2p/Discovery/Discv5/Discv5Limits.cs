namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>The fixed sizes of the discv5 v5.1 wire protocol (discv5-wire.md) and the limits this node keeps to.</summary>
public static class Discv5Limits
{
    /// <summary>No packet larger than this is sent or processed (discv5-wire.md, "UDP Communication").</summary>
    public const int MaxPacketSize = 1280;

    /// <summary>Anything shorter cannot be a discv5 packet and is dropped unread.</summary>
    public const int MinPacketSize = 63;

    public const int MaskingIvLength = 16;
    public const int NonceLength = 12;
    public const int NodeIdLength = 32;
    public const int IdNonceLength = 16;
    public const int GcmTagLength = 16;
    public const int SessionKeyLength = 16;

    /// <summary>protocol-id (6) ‖ version (2) ‖ flag (1) ‖ nonce (12) ‖ authdata-size (2).</summary>
    public const int StaticHeaderLength = 23;

    /// <summary>An ordinary message packet's authdata: the source node id.</summary>
    public const int MessageAuthDataLength = NodeIdLength;

    /// <summary>A WHOAREYOU packet's authdata: id-nonce (16) ‖ enr-seq (8).</summary>
    public const int WhoAreYouAuthDataLength = IdNonceLength + 8;

    /// <summary>A handshake packet's authdata-head: src-id ‖ sig-size ‖ eph-key-size.</summary>
    public const int HandshakeAuthDataHeadLength = NodeIdLength + 2;

    /// <summary>"v4" identity scheme: 64-byte r ‖ s signature, 33-byte compressed public key.</summary>
    public const int V4SignatureLength = 64;
    public const int V4PublicKeyLength = 33;

    /// <summary>The largest node record EIP-778 allows.</summary>
    public const int MaxRecordLength = 300;

    /// <summary>WHOAREYOU packets are exactly this long: iv ‖ static header ‖ authdata, no message.</summary>
    public const int WhoAreYouPacketLength = MaskingIvLength + StaticHeaderLength + WhoAreYouAuthDataLength;

    /// <summary>The first bytes of every static header.</summary>
    public static ReadOnlySpan<byte> ProtocolId => "discv5"u8;

    public const ushort Version = 0x0001;

    // ---- What this node keeps to (discv5-theory.md leaves these to the implementation) ----

    /// <summary>Established sessions kept, least recently used evicted first (a session is two AES keys, a few hundred bytes).</summary>
    public const int MaxSessions = 1000;

    /// <summary>WHOAREYOU challenges awaiting a handshake; the oldest is forgotten when more arrive.</summary>
    public const int MaxPendingChallenges = 1000;

    /// <summary>A second WHOAREYOU to the same node and address is not sent within this time (its handshake may be in flight).</summary>
    public static readonly TimeSpan ChallengeResendInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>A challenge not answered within this time is forgotten.</summary>
    public static readonly TimeSpan ChallengeLifetime = TimeSpan.FromSeconds(15);

    /// <summary>Sent packets remembered so a WHOAREYOU naming their nonce can be answered with a handshake.</summary>
    public const int MaxAwaitingPackets = 1000;

    /// <summary>Requests of ours awaiting a response at once; more wait for a place.</summary>
    public const int MaxPendingRequests = 256;

    /// <summary>Kademlia: 256 buckets (one per log-distance) of at most 16 nodes, each with a replacement cache of 16.</summary>
    public const int BucketCount = 256;
    public const int BucketSize = 16;
    public const int ReplacementCacheSize = 16;

    /// <summary>Lookups query this many nodes at once (alpha) and look for this many closest nodes.</summary>
    public const int LookupParallelism = 3;
    public const int LookupResults = 16;

    /// <summary>A lookup asks at most this many nodes, so it ends even when every answer names new nodes.</summary>
    public const int MaxLookupQueries = 64;

    /// <summary>FINDNODE asks each node for this many distances around the target's (go-ethereum and chainsafe use 3).</summary>
    public const int LookupDistances = 3;

    /// <summary>The most records one FINDNODE answer carries (discv5-wire.md suggests a limit of 16).</summary>
    public const int MaxNodesPerResponse = 16;

    /// <summary>Per source IP address: a token bucket of <see cref="RateLimitBurst"/> tokens refilled at
    /// <see cref="RateLimitPerSecond"/> a second. Every packet costs one token, a handshake <see cref="HandshakeCost"/>
    /// (ECDH and a signature check), a FINDNODE <see cref="FindNodeCost"/> more (it may be answered with five packets).</summary>
    public const int RateLimitBurst = 200;
    public const int RateLimitPerSecond = 100;
    public const int HandshakeCost = 10;
    public const int FindNodeCost = 4;

    /// <summary>Source addresses whose rate is tracked; past this the idle ones are forgotten first.</summary>
    public const int MaxTrackedAddresses = 4096;

    /// <summary>The UDP socket's kernel receive buffer (the OS may cap it lower).</summary>
    public const int SocketReceiveBufferSize = 1 << 20;

    /// <summary>Node ids whose discovery was announced, so each is announced once per sequence number.</summary>
    public const int MaxAnnouncedNodes = 4096;
}
