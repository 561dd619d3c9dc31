using System.Buffers.Binary;
using StoreSync.Core;

namespace StoreSync.Storage;

/// <summary>Fixed-width, order-preserving key encodings of the store's column families (spec/storage.md).</summary>
/// <remarks>
/// Integers are big-endian so byte order equals numeric order; the signed timestamp has its sign bit flipped so that
/// negative values sort before positive ones. The hash comes last, so ties on time break by hash bytes.
/// </remarks>
internal static class StoreKeys
{
    /// <summary>messages: pubsub id (4) ‖ content id (4) ‖ timestamp (8) ‖ hash (32).</summary>
    public const int MessageKeyLength = 48;

    /// <summary>time: pubsub id (4) ‖ timestamp (8) ‖ hash (32); value = content id (4).</summary>
    public const int TimeKeyLength = 44;

    /// <summary>hashes: value = pubsub id (4) ‖ content id (4) ‖ timestamp (8).</summary>
    public const int HashValueLength = 16;

    public static ulong EncodeTimestamp(long timestamp) => (ulong)timestamp ^ 0x8000_0000_0000_0000UL;

    public static long DecodeTimestamp(ReadOnlySpan<byte> eight) => (long)(BinaryPrimitives.ReadUInt64BigEndian(eight) ^ 0x8000_0000_0000_0000UL);

    public static void WriteMessageKey(Span<byte> key, uint pubsubId, uint contentId, long timestamp, in MessageHash hash)
    {
        BinaryPrimitives.WriteUInt32BigEndian(key, pubsubId);
        BinaryPrimitives.WriteUInt32BigEndian(key[4..], contentId);
        BinaryPrimitives.WriteUInt64BigEndian(key[8..], EncodeTimestamp(timestamp));
        hash.WriteTo(key[16..]);
    }

    public static void WriteTimeKey(Span<byte> key, uint pubsubId, long timestamp, in MessageHash hash)
    {
        BinaryPrimitives.WriteUInt32BigEndian(key, pubsubId);
        BinaryPrimitives.WriteUInt64BigEndian(key[4..], EncodeTimestamp(timestamp));
        hash.WriteTo(key[12..]);
    }

    public static void WriteHashValue(Span<byte> value, uint pubsubId, uint contentId, long timestamp)
    {
        BinaryPrimitives.WriteUInt32BigEndian(value, pubsubId);
        BinaryPrimitives.WriteUInt32BigEndian(value[4..], contentId);
        BinaryPrimitives.WriteUInt64BigEndian(value[8..], EncodeTimestamp(timestamp));
    }

    public static MessageLocation ReadHashValue(ReadOnlySpan<byte> value, in MessageHash hash)
    {
        if (value.Length != HashValueLength) throw new StoreCorruptionException($"hash index entry for {hash} is {value.Length} bytes, expected {HashValueLength}");
        return new MessageLocation(BinaryPrimitives.ReadUInt32BigEndian(value), BinaryPrimitives.ReadUInt32BigEndian(value[4..]),
            DecodeTimestamp(value[8..]), hash);
    }

    public static MessageLocation ReadMessageKey(ReadOnlySpan<byte> key) =>
        new(BinaryPrimitives.ReadUInt32BigEndian(key), BinaryPrimitives.ReadUInt32BigEndian(key[4..]), DecodeTimestamp(key[8..]), MessageHash.Read(key[16..48]));

    public static MessageLocation ReadTimeKey(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (value.Length != 4) throw new StoreCorruptionException($"time index value is {value.Length} bytes, expected 4");
        return new(BinaryPrimitives.ReadUInt32BigEndian(key), BinaryPrimitives.ReadUInt32BigEndian(value), DecodeTimestamp(key[4..]), MessageHash.Read(key[12..44]));
    }
}

/// <summary>Where a message lives: its topic ids, timestamp and hash (enough to build every index key).</summary>
public readonly record struct MessageLocation(uint PubsubId, uint ContentId, long Timestamp, MessageHash Hash)
{
    /// <summary>Store order within one scope: timestamp, then hash bytes.</summary>
    public int CompareTime(in MessageLocation other)
    {
        int c = Timestamp.CompareTo(other.Timestamp);
        return c != 0 ? c : Hash.CompareTo(other.Hash);
    }
}

/// <summary>The database holds something the store did not write; the message names what and where.</summary>
public sealed class StoreCorruptionException(string message) : Exception(message);
