using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using StoreSync.Core.Wire;

namespace StoreSync.Benchmarks;

/// <summary>The relay benchmark's messages: an encoded WakuMessage whose payload starts with (publisher, sequence number,
/// <see cref="Stopwatch"/> timestamp of the publish), so that receivers know the origin and latency without decoding.</summary>
/// <remarks>Encoded by hand in field order (payload 1, content topic 2, timestamp 10, as Google.Protobuf and js write them),
/// so the payload's first byte is at offset 1 + the length prefix's size. bench-relay.mjs builds the same bytes.</remarks>
internal static class RelayBenchMessage
{
    public const string ContentTopic = "/bench/1/relay/proto";
    public const int HeaderBytes = 16;

    static readonly byte[] TopicBytes = Encoding.UTF8.GetBytes(ContentTopic);

    /// <summary>One message with a payload of <paramref name="payloadBytes"/> (at least the header), timestamped now.</summary>
    public static byte[] Create(int publisher, int sequence, int payloadBytes, ReadOnlySpan<byte> filler)
    {
        payloadBytes = Math.Max(payloadBytes, HeaderBytes);
        long nanos = Core.Timestamp.Now();
        ulong zigzag = (ulong)((nanos << 1) ^ (nanos >> 63));
        int size = 1 + Varint.SizeOf((ulong)payloadBytes) + payloadBytes + 1 + Varint.SizeOf((ulong)TopicBytes.Length) + TopicBytes.Length
            + 1 + Varint.SizeOf(zigzag);
        var data = new byte[size];
        var span = data.AsSpan();
        int at = 0;
        span[at++] = (1 << 3) | 2;
        at += Varint.Write(span[at..], (ulong)payloadBytes);
        var payload = span.Slice(at, payloadBytes);
        filler[..Math.Min(filler.Length, payloadBytes)].CopyTo(payload);
        BinaryPrimitives.WriteInt32LittleEndian(payload, publisher);
        BinaryPrimitives.WriteInt32LittleEndian(payload[4..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], Stopwatch.GetTimestamp());
        at += payloadBytes;
        span[at++] = (2 << 3) | 2;
        at += Varint.Write(span[at..], (ulong)TopicBytes.Length);
        TopicBytes.CopyTo(span[at..]);
        at += TopicBytes.Length;
        span[at++] = 10 << 3;
        Varint.Write(span[at..], zigzag);
        return data;
    }

    /// <summary>Reads the header from an encoded message made by <see cref="Create"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out int publisher, out int sequence, out long publishedTicks)
    {
        publisher = sequence = 0;
        publishedTicks = 0;
        if (data.Length < 2 || data[0] != ((1 << 3) | 2) || !Varint.TryRead(data[1..], out ulong length, out int prefix)) return false;
        return TryReadPayload(data.Slice(1 + prefix, (int)Math.Min(length, (ulong)(data.Length - 1 - prefix))), out publisher, out sequence, out publishedTicks);
    }

    /// <summary>Reads the header from a decoded message's payload.</summary>
    public static bool TryReadPayload(ReadOnlySpan<byte> payload, out int publisher, out int sequence, out long publishedTicks)
    {
        publisher = sequence = 0;
        publishedTicks = 0;
        if (payload.Length < HeaderBytes) return false;
        publisher = BinaryPrimitives.ReadInt32LittleEndian(payload);
        sequence = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        publishedTicks = BinaryPrimitives.ReadInt64LittleEndian(payload[8..]);
        return true;
    }
}
