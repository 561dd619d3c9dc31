using Google.Protobuf;
using StoreSync.Core.Proto;
using StoreSync.Waku.Proto;

namespace StoreSync.Waku.Sync;

/// <summary><c>/vac/waku/transfer/1.0.0</c>: one-way pushes of whole messages with their pubsub topic, one length-prefixed
/// <c>WakuMessageAndTopic</c> per message (pubsub topic = field 1, message = field 2, as nwaku writes them).</summary>
public static class TransferProtocol
{
    public const string ProtocolId = "/vac/waku/transfer/1.0.0";

    /// <summary>Largest transfer frame for messages of at most <paramref name="maxMessageBytes"/>.</summary>
    public static int MaxFrameBytes(int maxMessageBytes) => maxMessageBytes + SyncNetworkLimits.TransferEnvelopeBytes;

    public static byte[] Encode(string pubsubTopic, WakuMessage message) =>
        new WakuMessageAndTopic { PubsubTopic = pubsubTopic, Message = message }.ToByteArray();

    /// <summary>Decodes a frame; both fields are required (as in nwaku).</summary>
    /// <exception cref="InvalidDataException">Not protobuf, or a field is missing.</exception>
    public static (string PubsubTopic, WakuMessage Message) Decode(ReadOnlySpan<byte> frame)
    {
        WakuMessageAndTopic decoded;
        try { decoded = WakuMessageAndTopic.Parser.ParseFrom(frame); }
        catch (InvalidProtocolBufferException e) { throw new InvalidDataException("transfer frame is not a WakuMessageAndTopic: " + e.Message, e); }
        if (!decoded.HasPubsubTopic || decoded.PubsubTopic.Length == 0) throw new InvalidDataException("transfer frame has no pubsub topic");
        if (decoded.Message is null) throw new InvalidDataException("transfer frame has no message");
        return (decoded.PubsubTopic, decoded.Message);
    }
}
