using System.Net;
using System.Net.Sockets;
using System.Text;
using StoreSync.Libp2p.Discovery.Rlp;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Discovery.Enr;

/// <summary>Assembles and signs a v4 node record: set pairs, then <see cref="Sign(IdentityKey)"/> with the node's secp256k1 key.</summary>
/// <remarks>
/// "id" and "secp256k1" are written by <see cref="Sign(IdentityKey)"/> from the key, so a record always names the key that signed it.
/// Start from <see cref="From"/> to change a record: it keeps the pairs and bumps the sequence number.
/// </remarks>
public sealed class EnrBuilder
{
    readonly SortedDictionary<string, byte[]> _pairs = new(StringComparer.Ordinal);

    /// <summary>The sequence number the signed record will carry.</summary>
    public ulong Seq { get; set; } = 1;

    /// <summary>A builder holding <paramref name="record"/>'s pairs with <c>seq + 1</c>, for publishing a changed record.</summary>
    public static EnrBuilder From(EnrRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var builder = new EnrBuilder { Seq = checked(record.Seq + 1) };
        foreach (var pair in record.EncodedPairs) builder._pairs[pair.Key] = pair.Value;
        return builder;
    }

    public EnrBuilder WithSeq(ulong seq)
    {
        Seq = seq;
        return this;
    }

    /// <summary>Sets <paramref name="key"/> to a byte string (an arbitrary key's raw value).</summary>
    public EnrBuilder Set(string key, ReadOnlySpan<byte> value)
    {
        var writer = new RlpWriter(value.Length + 4);
        writer.WriteBytes(value);
        return SetEncoded(key, writer.ToArray());
    }

    /// <summary>Sets <paramref name="key"/> to an RLP item given whole (a list, for schemes that nest values).</summary>
    /// <exception cref="EnrException">Not exactly one canonical RLP item.</exception>
    public EnrBuilder SetEncoded(string key, byte[] encodedValue)
    {
        CheckKey(key);
        try
        {
            var reader = new RlpReader(encodedValue);
            reader.ReadEncoded();
            reader.EnsureEnd();
        }
        catch (RlpException e)
        {
            throw new EnrException($"value for node record key \"{key}\" is not one RLP item: {e.Message}");
        }
        _pairs[key] = (byte[])encodedValue.Clone();
        return this;
    }

    public EnrBuilder Remove(string key)
    {
        _pairs.Remove(key);
        return this;
    }

    /// <summary>Sets "ip" or "ip6" by the address family.</summary>
    public EnrBuilder SetIp(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return Set(address.AddressFamily == AddressFamily.InterNetworkV6 ? EnrKeys.Ip6 : EnrKeys.Ip, address.GetAddressBytes());
    }

    public EnrBuilder SetTcp(ushort port) => SetPort(EnrKeys.Tcp, port);
    public EnrBuilder SetUdp(ushort port) => SetPort(EnrKeys.Udp, port);
    public EnrBuilder SetTcp6(ushort port) => SetPort(EnrKeys.Tcp6, port);
    public EnrBuilder SetUdp6(ushort port) => SetPort(EnrKeys.Udp6, port);

    /// <summary>Signs with a secp256k1 identity key.</summary>
    /// <exception cref="ArgumentException">The key is not secp256k1 (the v4 scheme knows no other).</exception>
    /// <exception cref="EnrException">The record would be longer than 300 bytes.</exception>
    public EnrRecord Sign(IdentityKey key)
    {
        if (key is not Secp256k1IdentityKey secp) throw new ArgumentException($"a v4 node record is signed with a secp256k1 key, not {key.Type}", nameof(key));
        return Sign(secp.PrivateKeyBytes);
    }

    /// <summary>Signs with a raw 32-byte secp256k1 private key.</summary>
    /// <exception cref="EnrException">The record would be longer than 300 bytes.</exception>
    public EnrRecord Sign(ReadOnlySpan<byte> privateKey)
    {
        Set(EnrKeys.Id, "v4"u8);
        Set(EnrKeys.Secp256k1, Secp256k1Signatures.PublicKeyOf(privateKey));
        var content = Content();
        var record = Wrap(V4IdentityScheme.Sign(privateKey, EnrRecord.ContentList(content.Written)), content);
        if (record.Written.Length > EnrKeys.MaxRecordLength)
            throw new EnrException($"the node record would be {record.Written.Length} bytes (EIP-778 allows at most {EnrKeys.MaxRecordLength})");
        return EnrRecord.FromSigned(record.ToArray());
    }

    /// <summary>The bytes the record would have if signed now by a secp256k1 key, so callers can drop optional pairs
    /// before <see cref="Sign(IdentityKey)"/> would refuse a record over 300 bytes.</summary>
    public int Length
    {
        get
        {
            var saved = (_pairs.GetValueOrDefault(EnrKeys.Id), _pairs.GetValueOrDefault(EnrKeys.Secp256k1));
            Set(EnrKeys.Id, "v4"u8);
            Set(EnrKeys.Secp256k1, new byte[33]); // a compressed point: its length is all that matters here
            int length = Wrap(new byte[64], Content()).Written.Length;
            Restore(EnrKeys.Id, saved.Item1);
            Restore(EnrKeys.Secp256k1, saved.Item2);
            return length;
        }
    }

    void Restore(string key, byte[]? value)
    {
        if (value is null) _pairs.Remove(key);
        else _pairs[key] = value;
    }

    RlpWriter Content()
    {
        var items = new RlpWriter();
        items.WriteUInt64(Seq);
        foreach (var (k, v) in _pairs)
        {
            items.WriteBytes(Encoding.Latin1.GetBytes(k));
            items.WriteEncoded(v);
        }
        return items;
    }

    static RlpWriter Wrap(ReadOnlySpan<byte> signature, RlpWriter content)
    {
        var record = new RlpWriter(content.Written.Length + 72);
        int list = record.BeginList();
        record.WriteBytes(signature);
        record.WriteEncoded(content.Written);
        record.EndList(list);
        return record;
    }

    EnrBuilder SetPort(string key, ushort port)
    {
        var writer = new RlpWriter(4);
        writer.WriteUInt64(port);
        return SetEncoded(key, writer.ToArray());
    }

    static void CheckKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (char c in key)
            if (c > 0xFF) throw new ArgumentException($"node record key \"{key}\" has a character outside one byte", nameof(key));
    }
}
