namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>
/// A handshake packet's authdata: <c>src-id ‖ sig-size ‖ eph-key-size ‖ id-signature ‖ eph-pubkey ‖ record</c>
/// (discv5-wire.md, "Handshake Message Packet").
/// </summary>
public readonly ref struct HandshakeAuthData
{
    readonly ReadOnlySpan<byte> _authData;

    HandshakeAuthData(ReadOnlySpan<byte> authData) => _authData = authData;

    /// <summary>Reads authdata that <see cref="IsWellFormed"/> accepted.</summary>
    public static HandshakeAuthData Read(ReadOnlySpan<byte> authData) =>
        IsWellFormed(authData) ? new HandshakeAuthData(authData) : throw new FormatException("malformed handshake authdata");

    public ReadOnlySpan<byte> SourceId => _authData[..Discv5Limits.NodeIdLength];

    public ReadOnlySpan<byte> IdSignature => _authData.Slice(Discv5Limits.HandshakeAuthDataHeadLength, SignatureSize);

    public ReadOnlySpan<byte> EphemeralPublicKey => _authData.Slice(Discv5Limits.HandshakeAuthDataHeadLength + SignatureSize, KeySize);

    /// <summary>The sender's RLP node record, or empty when it judged ours recent enough.</summary>
    public ReadOnlySpan<byte> Record => _authData[(Discv5Limits.HandshakeAuthDataHeadLength + SignatureSize + KeySize)..];

    int SignatureSize => _authData[Discv5Limits.NodeIdLength];

    int KeySize => _authData[Discv5Limits.NodeIdLength + 1];

    /// <summary>Whether the sizes fit: the head is present and the signature and key end inside the authdata.</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> authData)
    {
        if (authData.Length < Discv5Limits.HandshakeAuthDataHeadLength) return false;
        int fixedEnd = Discv5Limits.HandshakeAuthDataHeadLength + authData[Discv5Limits.NodeIdLength] + authData[Discv5Limits.NodeIdLength + 1];
        return fixedEnd <= authData.Length && authData.Length - fixedEnd <= Discv5Limits.MaxRecordLength;
    }

    /// <summary>Writes authdata for a v4 handshake into <paramref name="destination"/>; returns its length.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> sourceId, ReadOnlySpan<byte> idSignature, ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> record)
    {
        if (sourceId.Length != Discv5Limits.NodeIdLength) throw new ArgumentException("a node id is 32 bytes", nameof(sourceId));
        if (idSignature.Length > byte.MaxValue || ephemeralPublicKey.Length > byte.MaxValue) throw new ArgumentException("signature and key sizes are one byte each");
        if (record.Length > Discv5Limits.MaxRecordLength) throw new ArgumentException("a node record is at most 300 bytes", nameof(record));
        int length = Discv5Limits.HandshakeAuthDataHeadLength + idSignature.Length + ephemeralPublicKey.Length + record.Length;
        sourceId.CopyTo(destination);
        destination[Discv5Limits.NodeIdLength] = (byte)idSignature.Length;
        destination[Discv5Limits.NodeIdLength + 1] = (byte)ephemeralPublicKey.Length;
        idSignature.CopyTo(destination[Discv5Limits.HandshakeAuthDataHeadLength..]);
        ephemeralPublicKey.CopyTo(destination[(Discv5Limits.HandshakeAuthDataHeadLength + idSignature.Length)..]);
        record.CopyTo(destination[(Discv5Limits.HandshakeAuthDataHeadLength + idSignature.Length + ephemeralPublicKey.Length)..]);
        return length;
    }
}
