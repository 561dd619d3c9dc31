using Google.Protobuf;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Identify.Pb;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Identify;

/// <summary>libp2p identify <c>/ipfs/id/1.0.0</c>: the listener writes one length-prefixed Identify message and closes its side.</summary>
public static class IdentifyProtocol
{
    public const string ProtocolId = "/ipfs/id/1.0.0";

    /// <summary>The protocolVersion every libp2p implementation sends.</summary>
    public const string LibP2PProtocolVersion = "ipfs/0.1.0";

    /// <summary>js-libp2p caps identify at 8 KiB; we accept more because nwaku peers may list many addresses and a signed record.</summary>
    public const int MaxMessageBytes = 64 * 1024;

    /// <summary>At most this many addresses and protocols are kept from a peer's message (the rest is ignored, not an error).</summary>
    public const int MaxListEntries = 128;

    public static byte[] Encode(IdentifyInfo info)
    {
        var message = new IdentifyMessage
        {
            ProtocolVersion = info.ProtocolVersion,
            AgentVersion = info.AgentVersion,
            PublicKey = ByteString.CopyFrom(info.PublicKey.ToProtobuf()),
        };
        foreach (var a in info.ListenAddresses) message.ListenAddrs.Add(ByteString.CopyFrom(a.WithoutPeerId().ToBytes()));
        message.Protocols.Add(info.Protocols);
        if (info.ObservedAddress is not null) message.ObservedAddr = ByteString.CopyFrom(info.ObservedAddress.WithoutPeerId().ToBytes());
        return message.ToByteArray();
    }

    /// <summary>Decodes and checks a peer's message. Unparseable addresses are skipped (a peer may list transports we do not know).</summary>
    /// <exception cref="InvalidDataException">Not protobuf, or no valid public key.</exception>
    public static IdentifyInfo Decode(ReadOnlySpan<byte> bytes)
    {
        IdentifyMessage message;
        try { message = IdentifyMessage.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw new InvalidDataException("identify message is not valid protobuf: " + e.Message); }
        if (!message.HasPublicKey) throw new InvalidDataException("identify message has no public key");
        PublicKey key;
        try { key = PublicKey.FromProtobuf(message.PublicKey.Span); }
        catch (FormatException e) { throw new InvalidDataException("identify public key: " + e.Message); }
        var addresses = new List<Multiaddr>();
        foreach (var raw in message.ListenAddrs.Take(MaxListEntries))
        {
            if (TryDecodeAddress(raw, out var a)) addresses.Add(a);
        }
        Multiaddr? observed = message.HasObservedAddr && TryDecodeAddress(message.ObservedAddr, out var o) ? o : null;
        return new IdentifyInfo(key, addresses, message.Protocols.Take(MaxListEntries).ToList(), observed,
            message.HasProtocolVersion ? message.ProtocolVersion : "", message.HasAgentVersion ? message.AgentVersion : "");
    }

    static bool TryDecodeAddress(ByteString raw, out Multiaddr address)
    {
        try
        {
            address = Multiaddr.FromBytes(raw.Span);
            return true;
        }
        catch (FormatException)
        {
            address = null!;
            return false;
        }
    }

    /// <summary>Listener side: writes our message, then FIN.</summary>
    public static async Task RespondAsync(Stream stream, IdentifyInfo ours, Func<Task> closeWrite, CancellationToken ct)
    {
        await LengthPrefixed.WriteAsync(stream, Encode(ours), ct).ConfigureAwait(false);
        await closeWrite().ConfigureAwait(false);
    }

    /// <summary>Dialer side: reads the peer's message and checks that its key is the one the security handshake proved.</summary>
    /// <exception cref="InvalidDataException">Not protobuf, no valid public key, or a key of another peer.</exception>
    /// <exception cref="FrameTooLargeException">Above <see cref="MaxMessageBytes"/>.</exception>
    /// <exception cref="ProtocolViolationException">A malformed length prefix.</exception>
    public static async Task<IdentifyInfo> RequestAsync(Stream stream, PeerId expected, CancellationToken ct)
    {
        var bytes = await LengthPrefixed.ReadAsync(stream, MaxMessageBytes, ct).ConfigureAwait(false);
        var info = Decode(bytes);
        if (info.PeerId != expected) throw new InvalidDataException($"identify public key belongs to {info.PeerId}, the connection proved {expected}");
        return info;
    }
}
