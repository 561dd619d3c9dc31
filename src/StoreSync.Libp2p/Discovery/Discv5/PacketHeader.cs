namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>A received packet after unmasking: the static header's fields, authdata, and the still-encrypted message.</summary>
/// <remarks>All spans point into the datagram or the caller's scratch buffer; the header lives only as long as both.</remarks>
public readonly ref struct PacketHeader
{
    public PacketHeader(PacketFlag flag, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> authData, ReadOnlySpan<byte> messageAd, ReadOnlySpan<byte> message)
    {
        Flag = flag;
        Nonce = nonce;
        AuthData = authData;
        MessageAd = messageAd;
        Message = message;
    }

    public PacketFlag Flag { get; }

    /// <summary>The 96-bit nonce; in a WHOAREYOU, the nonce of the packet it answers.</summary>
    public ReadOnlySpan<byte> Nonce { get; }

    public ReadOnlySpan<byte> AuthData { get; }

    /// <summary>masking-iv ‖ unmasked header: the message's additional data, and for a WHOAREYOU its challenge-data.</summary>
    public ReadOnlySpan<byte> MessageAd { get; }

    /// <summary>The encrypted message with its 16-byte GCM tag; empty for WHOAREYOU.</summary>
    public ReadOnlySpan<byte> Message { get; }

    /// <summary>The sender's node id, for message and handshake packets.</summary>
    public ReadOnlySpan<byte> SourceId => Flag == PacketFlag.WhoAreYou ? default : AuthData[..Discv5Limits.NodeIdLength];
}
