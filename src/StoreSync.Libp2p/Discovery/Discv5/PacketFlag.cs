namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>The static header's <c>flag</c>: which of the three packet kinds follows (discv5-wire.md, "Packet Encoding").</summary>
public enum PacketFlag : byte
{
    /// <summary>An ordinary message packet; authdata is the source node id.</summary>
    Message = 0,

    /// <summary>A WHOAREYOU challenge; authdata is id-nonce ‖ enr-seq, no message.</summary>
    WhoAreYou = 1,

    /// <summary>A handshake message packet; authdata carries the id signature, ephemeral key and maybe a record.</summary>
    Handshake = 2,
}
