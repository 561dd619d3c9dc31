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
}
