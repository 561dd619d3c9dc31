using System.Buffers.Binary;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Waku.Enr;

/// <summary>Waku's fields on a generic node record (31/WAKU2-ENR): <c>waku2</c>, <c>multiaddrs</c>, <c>rs</c>/<c>rsv</c>.</summary>
public static class WakuEnr
{
    public const string CapabilitiesKey = "waku2";

    /// <summary>Length-prefixed (u16 BE) binary multiaddrs, for the addresses ip/tcp cannot say (/ws, /wss, dns).</summary>
    public const string MultiaddrsKey = "multiaddrs";

    public static EnrBuilder SetWakuCapabilities(this EnrBuilder builder, WakuCapabilities capabilities) =>
        builder.Set(CapabilitiesKey, [(byte)capabilities]);

    /// <summary>Writes <c>rs</c> or, from 64 shards on, <c>rsv</c>, as nwaku chooses.</summary>
    public static EnrBuilder SetRelayShards(this EnrBuilder builder, RelayShards shards)
    {
        builder.Remove(RelayShards.IndicesListKey).Remove(RelayShards.BitVectorKey);
        return builder.Set(shards.Key, shards.Encode());
    }

    /// <summary>Writes the addresses without their /p2p part (the record's key names the peer).</summary>
    public static EnrBuilder SetMultiaddrs(this EnrBuilder builder, IEnumerable<Multiaddr> addresses)
    {
        var parts = addresses.Select(a => a.WithoutPeerId().ToBytes()).ToList();
        var value = new byte[parts.Sum(p => 2 + p.Length)];
        int o = 0;
        foreach (var part in parts)
        {
            BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(o), (ushort)part.Length);
            part.CopyTo(value, o + 2);
            o += 2 + part.Length;
        }
        return builder.Set(MultiaddrsKey, value);
    }

    /// <summary>Writes as many of <paramref name="addresses"/>, in order, as keep the record within 300 bytes (nwaku drops
    /// the last ones until it fits); none at all leaves the field out. Returns how many were written.</summary>
    public static int SetMultiaddrsThatFit(this EnrBuilder builder, IReadOnlyList<Multiaddr> addresses)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(addresses);
        for (int count = addresses.Count; count > 0; count--)
        {
            builder.SetMultiaddrs(addresses.Take(count));
            if (builder.Length <= EnrKeys.MaxRecordLength) return count;
        }
        builder.Remove(MultiaddrsKey);
        return 0;
    }

    /// <summary>The <c>waku2</c> bits, or null if the field is absent or not one byte.</summary>
    public static WakuCapabilities? WakuCapabilitiesOf(EnrRecord record) =>
        record.TryGetBytes(CapabilitiesKey, out var value) && value.Length == 1 ? (WakuCapabilities)value[0] : null;

    /// <summary>The shards from <c>rs</c>, else from <c>rsv</c>; null if neither is there and well-formed.</summary>
    public static RelayShards? RelayShardsOf(EnrRecord record)
    {
        if (record.TryGetBytes(RelayShards.IndicesListKey, out var list) && RelayShards.DecodeIndicesList(list) is { } fromList) return fromList;
        return record.TryGetBytes(RelayShards.BitVectorKey, out var vector) ? RelayShards.DecodeBitVector(vector) : null;
    }

    /// <summary>The <c>multiaddrs</c> field's addresses; ones that do not parse are skipped, a cut-short list ends the read.</summary>
    public static IReadOnlyList<Multiaddr> MultiaddrsOf(EnrRecord record)
    {
        if (!record.TryGetBytes(MultiaddrsKey, out var value)) return [];
        var addresses = new List<Multiaddr>();
        int o = 0;
        while (o + 2 <= value.Length)
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(value[o..]);
            if (o + 2 + length > value.Length) break;
            try { addresses.Add(Multiaddr.FromBytes(value.Slice(o + 2, length))); }
            catch (Exception e) when (e is FormatException or UnsupportedTransportException) { }
            o += 2 + length;
        }
        return addresses;
    }
}
