using System.Buffers.Binary;

namespace StoreSync.Libp2p.Yamux;

/// <summary>Yamux frame types (yamux spec "Type").</summary>
public enum YamuxFrameType : byte { Data = 0, WindowUpdate = 1, Ping = 2, GoAway = 3 }

/// <summary>Yamux frame flags (yamux spec "Flags").</summary>
[Flags]
public enum YamuxFlags : ushort { None = 0, Syn = 1, Ack = 2, Fin = 4, Rst = 8 }

/// <summary>GoAway codes.</summary>
public enum YamuxGoAwayCode : uint { Normal = 0, ProtocolError = 1, InternalError = 2 }

/// <summary>The 12-byte yamux header: version ‖ type ‖ flags (u16 BE) ‖ stream id (u32 BE) ‖ length (u32 BE).</summary>
/// <remarks>Length is the payload size for Data, the window delta for WindowUpdate, the opaque value for Ping, the code for GoAway.</remarks>
public readonly record struct YamuxFrameHeader(YamuxFrameType Type, YamuxFlags Flags, uint StreamId, uint Length)
{
    public const int Size = 12;
    public const byte Version = 0;

    public void Write(Span<byte> destination)
    {
        destination[0] = Version;
        destination[1] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)Flags);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], StreamId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Length);
    }

    /// <exception cref="YamuxProtocolException">Unknown version or type.</exception>
    public static YamuxFrameHeader Read(ReadOnlySpan<byte> source)
    {
        if (source[0] != Version) throw new YamuxProtocolException($"yamux version {source[0]}, expected 0");
        if (source[1] > (byte)YamuxFrameType.GoAway) throw new YamuxProtocolException($"unknown yamux frame type {source[1]}");
        return new YamuxFrameHeader((YamuxFrameType)source[1], (YamuxFlags)BinaryPrimitives.ReadUInt16BigEndian(source[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[4..]), BinaryPrimitives.ReadUInt32BigEndian(source[8..]));
    }
}
