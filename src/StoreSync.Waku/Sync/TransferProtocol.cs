using System.Text;
using Google.Protobuf;
using StoreSync.Core.Proto;
using StoreSync.Core.Wire;
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

    /// <summary>Protobuf tags of <c>WakuMessageAndTopic</c>: field 1 (pubsub topic) and 2 (message), both length-delimited.</summary>
    const byte PubsubTopicTag = 0x0a, MessageTag = 0x12;

    /// <summary>Bytes of the frame <see cref="WriteStored"/> writes, its length prefix included.</summary>
    public static int StoredWireSize(string pubsubTopic, int messageBytes) => LengthPrefixedSize(StoredFrameSize(Encoding.UTF8.GetByteCount(pubsubTopic), messageBytes));

    static int StoredFrameSize(int topicBytes, int messageBytes) =>
        1 + Varint.SizeOf((ulong)topicBytes) + topicBytes + 1 + Varint.SizeOf((ulong)messageBytes) + messageBytes;

    static int LengthPrefixedSize(int frame) => Varint.SizeOf((ulong)frame) + frame;

    /// <summary>Writes one length-prefixed frame from a message's stored bytes (its WakuMessage protobuf, as the store keeps
    /// it) without parsing them: byte for byte what <see cref="Encode"/> writes for the parsed message, since the store keeps
    /// the canonical encoding (test: <c>TransferProtocolTests</c>).</summary>
    /// <returns>Bytes written; <paramref name="destination"/> must hold <see cref="StoredWireSize"/>.</returns>
    public static int WriteStored(Span<byte> destination, string pubsubTopic, ReadOnlySpan<byte> storedMessage)
    {
        int topicBytes = Encoding.UTF8.GetByteCount(pubsubTopic);
        int frame = StoredFrameSize(topicBytes, storedMessage.Length);
        int at = Varint.Write(destination, (ulong)frame);
        destination[at++] = PubsubTopicTag;
        at += Varint.Write(destination[at..], (ulong)topicBytes);
        at += Encoding.UTF8.GetBytes(pubsubTopic, destination[at..]);
        destination[at++] = MessageTag;
        at += Varint.Write(destination[at..], (ulong)storedMessage.Length);
        storedMessage.CopyTo(destination[at..]);
        return at + storedMessage.Length;
    }

    /// <summary>The pubsub topic and the message's content topic of a frame, read without decoding the message (the receiver
    /// paces its reads by them before the frame is decoded); false when the frame does not have that shape.</summary>
    public static bool TryPeekTopics(ReadOnlySpan<byte> frame, out string pubsubTopic, out string contentTopic)
    {
        pubsubTopic = contentTopic = "";
        bool found = false;
        while (TryField(ref frame, out ulong tag, out var value))
        {
            if (tag == PubsubTopicTag) pubsubTopic = Encoding.UTF8.GetString(value);
            else if (tag == MessageTag)
            {
                // WakuMessage field 2 (content topic), length-delimited: tag 0x12 as well.
                var message = value;
                while (TryField(ref message, out ulong inner, out var field))
                    if (inner == MessageTag) { contentTopic = Encoding.UTF8.GetString(field); found = true; }
            }
        }
        return found && pubsubTopic.Length > 0;
    }

    // One protobuf field; only length-delimited and varint fields are expected here, anything else ends the scan.
    static bool TryField(ref ReadOnlySpan<byte> data, out ulong tag, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (!Varint.TryRead(data, out tag, out int n)) return false;
        data = data[n..];
        switch (tag & 7)
        {
            case 0:
                if (!Varint.TryRead(data, out _, out n)) return false;
                data = data[n..];
                return true;
            case 2:
                if (!Varint.TryRead(data, out ulong length, out n) || length > (ulong)(data.Length - n)) return false;
                value = data.Slice(n, (int)length);
                data = data[(n + (int)length)..];
                return true;
            default:
                return false;
        }
    }

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
