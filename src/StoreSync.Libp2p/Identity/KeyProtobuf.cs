using StoreSync.Core.Wire;

namespace StoreSync.Libp2p.Identity;

/// <summary>The libp2p PublicKey/PrivateKey protobuf <c>{ required KeyType Type = 1; required bytes Data = 2; }</c>.</summary>
/// <remarks>
/// Hand-written instead of generated because peer ids hash this encoding: the spec demands the deterministic
/// proto2 form (Type always present, even RSA = 0, then Data), which a proto3 generator would not produce.
/// </remarks>
internal static class KeyProtobuf
{
    /// <summary>Large enough for an 8192-bit RSA public key in DER; bounds what a hostile peer can make us hold.</summary>
    public const int MaxDataLength = 2048;

    public static byte[] Encode(KeyType type, ReadOnlySpan<byte> data)
    {
        var result = new byte[2 + Varint.SizeOf((ulong)data.Length) + 1 + data.Length];
        result[0] = 0x08;
        result[1] = (byte)type;
        result[2] = 0x12;
        int o = 3 + Varint.Write(result.AsSpan(3), (ulong)data.Length);
        data.CopyTo(result.AsSpan(o));
        return result;
    }

    /// <exception cref="FormatException">Missing, repeated or unknown fields, or a truncated or oversized value.</exception>
    public static (KeyType Type, byte[] Data) Decode(ReadOnlySpan<byte> bytes)
    {
        KeyType? type = null;
        byte[]? data = null;
        // Each iteration consumes at least one byte, so the loop is bounded by the input length.
        while (!bytes.IsEmpty)
        {
            int n = Varint.Read(bytes, out ulong tag);
            if (n == 0) throw new FormatException("key protobuf truncated in a field tag");
            bytes = bytes[n..];
            switch (tag)
            {
                case 0x08 when type is null:
                    n = Varint.Read(bytes, out ulong t);
                    if (n == 0) throw new FormatException("key protobuf truncated in Type");
                    if (t > (ulong)KeyType.Ecdsa) throw new FormatException($"unknown key type {t}");
                    type = (KeyType)t;
                    bytes = bytes[n..];
                    break;
                case 0x12 when data is null:
                    n = Varint.Read(bytes, out ulong length);
                    if (n == 0) throw new FormatException("key protobuf truncated in the length of Data");
                    if (length > MaxDataLength) throw new FormatException($"key Data of {length} bytes exceeds {MaxDataLength}");
                    bytes = bytes[n..];
                    if ((ulong)bytes.Length < length) throw new FormatException("key protobuf truncated in Data");
                    data = bytes[..(int)length].ToArray();
                    bytes = bytes[(int)length..];
                    break;
                default:
                    throw new FormatException($"unexpected field tag 0x{tag:x} in key protobuf");
            }
        }
        if (type is null || data is null) throw new FormatException("key protobuf lacks its required Type or Data");
        return (type.Value, data);
    }
}
