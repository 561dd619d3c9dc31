using Google.Protobuf;
using StoreSync.Core.Proto;

namespace StoreSync.Core;

/// <summary>Encoding rules for WakuMessage that keep nwaku's decoder happy.</summary>
public static class WakuMessageWire
{
    /// <summary>Marks the payload present so field 1 is written even when empty (nwaku requires it).</summary>
    public static WakuMessage WithPayloadPresent(this WakuMessage message)
    {
        if (!message.HasPayload) message.Payload = ByteString.Empty;
        return message;
    }

    /// <summary>Parses a WakuMessage and applies the limits a store node enforces before anything else.</summary>
    public static WakuMessage Parse(ReadOnlySpan<byte> bytes, int maxMessageBytes = MessageValidator.DefaultMaxMessageBytes)
    {
        if (bytes.Length > maxMessageBytes + 1024)
            throw new MessageValidationException($"encoded message is {bytes.Length} bytes, above the limit of {maxMessageBytes} bytes");
        try
        {
            return WakuMessage.Parser.ParseFrom(bytes).WithPayloadPresent();
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new MessageValidationException($"not a WakuMessage protobuf: {e.Message}");
        }
    }
}
