using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using StoreSync.Core.Proto;

namespace StoreSync.Core;

/// <summary>The 32-byte deterministic Waku message hash (14/WAKU2-MESSAGE), the key of a stored message.</summary>
/// <remarks>
/// Held as four big-endian words so that comparing words compares the bytes lexicographically,
/// which is the order Store v3 and store sync use as a tie-break after the timestamp.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
public readonly struct MessageHash : IEquatable<MessageHash>, IComparable<MessageHash>
{
    public const int Length = 32;

    public readonly ulong W0, W1, W2, W3;

    public MessageHash(ulong w0, ulong w1, ulong w2, ulong w3) { W0 = w0; W1 = w1; W2 = w2; W3 = w3; }

    public static MessageHash Zero => default;

    public static MessageHash Max => new(ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue);

    public bool IsZero => (W0 | W1 | W2 | W3) == 0;

    /// <summary>Reads a hash from exactly 32 bytes.</summary>
    public static MessageHash Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
            throw new ArgumentException($"a message hash is {Length} bytes, got {bytes.Length}", nameof(bytes));
        return new MessageHash(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));
    }

    public static bool TryRead(ReadOnlySpan<byte> bytes, out MessageHash hash)
    {
        if (bytes.Length != Length) { hash = default; return false; }
        hash = Read(bytes);
        return true;
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, W0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], W1);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], W2);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], W3);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    public MessageHash Xor(in MessageHash other) => new(W0 ^ other.W0, W1 ^ other.W1, W2 ^ other.W2, W3 ^ other.W3);

    /// <summary>Computes the deterministic hash of a message published on <paramref name="pubsubTopic"/>.</summary>
    /// <remarks>
    /// sha256(pubsubTopic ‖ payload ‖ contentTopic ‖ meta ‖ timestamp as 8 big-endian bytes), no separators;
    /// an absent meta contributes nothing, an absent timestamp is hashed as 0 (nwaku's digest.nim).
    /// </remarks>
    public static MessageHash Compute(string pubsubTopic, WakuMessage message)
    {
        ArgumentNullException.ThrowIfNull(pubsubTopic);
        ArgumentNullException.ThrowIfNull(message);
        return Compute(pubsubTopic, message.Payload.Span, message.ContentTopic, message.HasMeta ? message.Meta.Span : default,
            message.Timestamp);
    }

    // The payload, most of the bytes, is hashed where it lies; only the topics, meta and timestamp are gathered around it.
    public static MessageHash Compute(string pubsubTopic, ReadOnlySpan<byte> payload, string contentTopic,
        ReadOnlySpan<byte> meta, long timestamp)
    {
        int topicBytes = Encoding.UTF8.GetByteCount(pubsubTopic);
        int tailBytes = Encoding.UTF8.GetByteCount(contentTopic) + meta.Length + 8, total = topicBytes + tailBytes;
        byte[]? rented = null;
        Span<byte> parts = total <= 512 ? stackalloc byte[total] : (rented = ArrayPool<byte>.Shared.Rent(total));
        try
        {
            Encoding.UTF8.GetBytes(pubsubTopic, parts);
            var tail = parts.Slice(topicBytes, tailBytes);
            int at = Encoding.UTF8.GetBytes(contentTopic, tail);
            meta.CopyTo(tail[at..]); at += meta.Length;
            BinaryPrimitives.WriteInt64BigEndian(tail[at..], timestamp);
            Span<byte> digest = stackalloc byte[Length];
            OpenSslSha256.Hash(parts[..topicBytes], payload, tail, digest);
            return Read(digest);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public int CompareTo(MessageHash other)
    {
        int c = W0.CompareTo(other.W0);
        if (c != 0) return c;
        c = W1.CompareTo(other.W1);
        if (c != 0) return c;
        c = W2.CompareTo(other.W2);
        return c != 0 ? c : W3.CompareTo(other.W3);
    }

    public bool Equals(MessageHash other) => W0 == other.W0 && W1 == other.W1 && W2 == other.W2 && W3 == other.W3;

    public override bool Equals(object? obj) => obj is MessageHash other && Equals(other);

    public override int GetHashCode() => (int)W3 ^ (int)(W3 >> 32) ^ (int)W2;

    public static bool operator ==(MessageHash a, MessageHash b) => a.Equals(b);
    public static bool operator !=(MessageHash a, MessageHash b) => !a.Equals(b);
    public static bool operator <(MessageHash a, MessageHash b) => a.CompareTo(b) < 0;
    public static bool operator >(MessageHash a, MessageHash b) => a.CompareTo(b) > 0;
    public static bool operator <=(MessageHash a, MessageHash b) => a.CompareTo(b) <= 0;
    public static bool operator >=(MessageHash a, MessageHash b) => a.CompareTo(b) >= 0;

    /// <summary>Lower-case hex with a 0x prefix, as nwaku's REST API and logs print hashes.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Length];
        WriteTo(bytes);
        return "0x" + Convert.ToHexStringLower(bytes);
    }

    /// <summary>Parses hex (with or without 0x) or standard/url-safe base64, the forms REST clients send.</summary>
    public static bool TryParse(string? text, out MessageHash hash)
    {
        hash = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        Span<byte> bytes = stackalloc byte[Length];
        var hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (hex.Length == 64 && Convert.FromHexString(hex, bytes, out _, out _) == System.Buffers.OperationStatus.Done)
        {
            hash = Read(bytes);
            return true;
        }
        var b64 = text.Replace('-', '+').Replace('_', '/');
        if (b64.Length == 43) b64 += "=";
        if (Convert.TryFromBase64String(b64, bytes, out int written) && written == Length)
        {
            hash = Read(bytes);
            return true;
        }
        return false;
    }

    public static MessageHash Parse(string text) =>
        TryParse(text, out var hash) ? hash : throw new FormatException($"not a 32-byte message hash: '{text}'");
}
