using System.Buffers.Binary;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>A WHOAREYOU packet's authdata: <c>id-nonce (16) ‖ enr-seq (uint64)</c>, the sequence number of the record we hold for the requester.</summary>
public readonly ref struct WhoAreYouChallenge
{
    WhoAreYouChallenge(ReadOnlySpan<byte> idNonce, ulong enrSeq)
    {
        IdNonce = idNonce;
        EnrSeq = enrSeq;
    }

    public ReadOnlySpan<byte> IdNonce { get; }

    /// <summary>Zero when the challenger has no record of us, so the handshake must carry one.</summary>
    public ulong EnrSeq { get; }

    public static WhoAreYouChallenge Read(ReadOnlySpan<byte> authData)
    {
        if (authData.Length != Discv5Limits.WhoAreYouAuthDataLength) throw new FormatException("WHOAREYOU authdata is 24 bytes");
        return new WhoAreYouChallenge(authData[..Discv5Limits.IdNonceLength], BinaryPrimitives.ReadUInt64BigEndian(authData[Discv5Limits.IdNonceLength..]));
    }

    public static void Write(Span<byte> destination, ReadOnlySpan<byte> idNonce, ulong enrSeq)
    {
        if (idNonce.Length != Discv5Limits.IdNonceLength) throw new ArgumentException("the id-nonce is 16 bytes", nameof(idNonce));
        idNonce.CopyTo(destination);
        BinaryPrimitives.WriteUInt64BigEndian(destination[Discv5Limits.IdNonceLength..], enrSeq);
    }
}
