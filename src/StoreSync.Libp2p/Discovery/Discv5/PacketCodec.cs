using System.Buffers.Binary;
using System.Security.Cryptography;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>
/// The discv5 v5.1 packet layout: <c>masking-iv ‖ aesctr(dest-id[:16], masking-iv, static-header ‖ authdata) ‖ message</c>,
/// the message being AES-128-GCM over its plaintext with <c>masking-iv ‖ header</c> as additional data.
/// </summary>
/// <remarks>
/// Decoding checks every length against the datagram before reading and reports a <see cref="PacketDropReason"/> rather
/// than throwing, so a flood of junk costs one or two AES blocks per datagram and no exception.
/// </remarks>
public static class PacketCodec
{
    const int Iv = Discv5Limits.MaskingIvLength;
    const int Static = Discv5Limits.StaticHeaderLength;

    /// <summary>Unmasks a datagram addressed to us; <paramref name="localMasking"/> holds our own masking key (our node id's first 16 bytes).</summary>
    /// <param name="scratch">At least <see cref="Discv5Limits.MaxPacketSize"/> bytes; receives masking-iv ‖ unmasked header.</param>
    public static PacketDropReason TryDecode(ReadOnlySpan<byte> packet, Aes localMasking, Span<byte> scratch, out PacketHeader header)
    {
        header = default;
        if (packet.Length < Discv5Limits.MinPacketSize) return PacketDropReason.TooShort;
        if (packet.Length > Discv5Limits.MaxPacketSize) return PacketDropReason.TooLarge;
        var iv = packet[..Iv];
        iv.CopyTo(scratch);
        AesCtr.Transform(localMasking, iv, packet.Slice(Iv, Static), scratch.Slice(Iv, Static));
        var staticHeader = scratch.Slice(Iv, Static);
        if (!staticHeader[..6].SequenceEqual(Discv5Limits.ProtocolId) || BinaryPrimitives.ReadUInt16BigEndian(staticHeader[6..]) != Discv5Limits.Version)
            return PacketDropReason.NotDiscv5;
        byte flag = staticHeader[8];
        int authSize = BinaryPrimitives.ReadUInt16BigEndian(staticHeader[21..]);
        int headerEnd = Iv + Static + authSize;
        if (headerEnd > packet.Length) return PacketDropReason.BadAuthData;
        // The counter runs on from the static header, so unmasking the whole header again is the simplest correct way.
        AesCtr.Transform(localMasking, iv, packet[Iv..headerEnd], scratch[Iv..headerEnd]);
        var authData = scratch[(Iv + Static)..headerEnd];
        var message = packet[headerEnd..];
        switch ((PacketFlag)flag)
        {
            case PacketFlag.Message:
                if (authSize != Discv5Limits.MessageAuthDataLength) return PacketDropReason.BadAuthData;
                if (message.Length < Discv5Limits.GcmTagLength) return PacketDropReason.BadMessageLength;
                break;
            case PacketFlag.WhoAreYou:
                if (authSize != Discv5Limits.WhoAreYouAuthDataLength) return PacketDropReason.BadAuthData;
                if (message.Length != 0) return PacketDropReason.BadMessageLength;
                break;
            case PacketFlag.Handshake:
                if (!HandshakeAuthData.IsWellFormed(authData)) return PacketDropReason.BadAuthData;
                if (message.Length < Discv5Limits.GcmTagLength) return PacketDropReason.BadMessageLength;
                break;
            default:
                return PacketDropReason.UnknownFlag;
        }
        header = new PacketHeader((PacketFlag)flag, staticHeader.Slice(9, Discv5Limits.NonceLength), authData, scratch[..headerEnd], message);
        return PacketDropReason.None;
    }

    /// <summary>Writes masking-iv ‖ static-header ‖ authdata unmasked into <paramref name="destination"/>; returns the header's end.</summary>
    /// <remarks>Split from <see cref="Seal"/> so that the unmasked bytes (a WHOAREYOU's challenge-data, a message's AD) can be kept.</remarks>
    public static int WriteHeader(Span<byte> destination, ReadOnlySpan<byte> maskingIv, PacketFlag flag, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> authData)
    {
        if (maskingIv.Length != Iv) throw new ArgumentException("the masking IV is 16 bytes", nameof(maskingIv));
        if (nonce.Length != Discv5Limits.NonceLength) throw new ArgumentException("the nonce is 12 bytes", nameof(nonce));
        int end = Iv + Static + authData.Length;
        if (end > Discv5Limits.MaxPacketSize || end > destination.Length) throw new ArgumentException("the header does not fit in a packet", nameof(authData));
        maskingIv.CopyTo(destination);
        var s = destination.Slice(Iv, Static);
        Discv5Limits.ProtocolId.CopyTo(s);
        BinaryPrimitives.WriteUInt16BigEndian(s[6..], Discv5Limits.Version);
        s[8] = (byte)flag;
        nonce.CopyTo(s[9..]);
        BinaryPrimitives.WriteUInt16BigEndian(s[21..], (ushort)authData.Length);
        authData.CopyTo(destination[(Iv + Static)..]);
        return end;
    }

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> after the header written by <see cref="WriteHeader"/> (unless it is a WHOAREYOU,
    /// <paramref name="key"/> null), then masks the header with the destination's key; returns the packet's length.
    /// </summary>
    public static int Seal(Span<byte> packet, int headerEnd, ReadOnlySpan<byte> plaintext, AesGcm? key, Aes destinationMasking)
    {
        int length = headerEnd;
        if (key is not null)
        {
            length += plaintext.Length + Discv5Limits.GcmTagLength;
            if (length > Discv5Limits.MaxPacketSize || length > packet.Length) throw new ArgumentException("the message does not fit in a packet", nameof(plaintext));
            var nonce = packet.Slice(Iv + 9, Discv5Limits.NonceLength);
            key.Encrypt(nonce, plaintext, packet.Slice(headerEnd, plaintext.Length), packet.Slice(headerEnd + plaintext.Length, Discv5Limits.GcmTagLength), packet[..headerEnd]);
        }
        // Masking in place: CTR reads each byte before it writes it.
        AesCtr.Transform(destinationMasking, packet[..Iv], packet[Iv..headerEnd], packet[Iv..headerEnd]);
        return length;
    }

    /// <summary>Decrypts and authenticates a message or handshake packet's message into <paramref name="plaintext"/>.</summary>
    public static bool TryOpen(in PacketHeader header, AesGcm key, Span<byte> plaintext, out int written)
    {
        written = header.Message.Length - Discv5Limits.GcmTagLength;
        if (written < 0 || plaintext.Length < written) { written = 0; return false; }
        var cipher = header.Message[..written];
        var tag = header.Message[written..];
        try
        {
            key.Decrypt(header.Nonce, cipher, tag, plaintext[..written], header.MessageAd);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            written = 0;
            return false;
        }
    }
}
