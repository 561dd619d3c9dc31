using System.Buffers.Binary;

namespace StoreSync.Waku.Enr;

/// <summary>
/// The relay shards a node is on, as the ENR carries them (31/WAKU2-ENR, nwaku's sharding.nim): <c>rs</c> is
/// cluster (u16 BE) ‖ count (u8) ‖ shard (u16 BE)…; <c>rsv</c> is cluster (u16 BE) ‖ a 128-byte bit vector in which
/// shard s is bit s mod 8 of byte s / 8.
/// </summary>
public sealed record RelayShards(ushort ClusterId, IReadOnlyList<ushort> Shards)
{
    public const string IndicesListKey = "rs";
    public const string BitVectorKey = "rsv";
    public const ushort MaxShardIndex = 1023;

    /// <summary>nwaku writes <c>rsv</c> instead of <c>rs</c> from this many shards on.</summary>
    public const int IndicesListMaxLength = 64;

    const int BitVectorBytes = 128;

    /// <summary>The key nwaku would write for this many shards.</summary>
    public string Key => Shards.Count >= IndicesListMaxLength ? BitVectorKey : IndicesListKey;

    /// <exception cref="ArgumentException">A shard over 1023.</exception>
    public static RelayShards Create(ushort clusterId, IEnumerable<ushort> shards)
    {
        var list = shards.Distinct().ToList();
        if (list.Any(s => s > MaxShardIndex)) throw new ArgumentException($"shard index over {MaxShardIndex}", nameof(shards));
        return new RelayShards(clusterId, list);
    }

    /// <summary>The value for <see cref="Key"/>.</summary>
    public byte[] Encode() => Shards.Count >= IndicesListMaxLength ? EncodeBitVector() : EncodeIndicesList();

    public byte[] EncodeIndicesList()
    {
        var value = new byte[3 + 2 * Shards.Count];
        BinaryPrimitives.WriteUInt16BigEndian(value, ClusterId);
        value[2] = (byte)Shards.Count;
        for (int i = 0; i < Shards.Count; i++) BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(3 + 2 * i), Shards[i]);
        return value;
    }

    public byte[] EncodeBitVector()
    {
        var value = new byte[2 + BitVectorBytes];
        BinaryPrimitives.WriteUInt16BigEndian(value, ClusterId);
        foreach (var shard in Shards) value[2 + shard / 8] |= (byte)(1 << (shard % 8));
        return value;
    }

    /// <summary>Decodes an <c>rs</c> value; null if its length does not match its count.</summary>
    public static RelayShards? DecodeIndicesList(ReadOnlySpan<byte> value)
    {
        if (value.Length < 3 || value.Length != 3 + 2 * value[2]) return null;
        var shards = new ushort[value[2]];
        for (int i = 0; i < shards.Length; i++) shards[i] = BinaryPrimitives.ReadUInt16BigEndian(value[(3 + 2 * i)..]);
        return new RelayShards(BinaryPrimitives.ReadUInt16BigEndian(value), shards);
    }

    /// <summary>Decodes an <c>rsv</c> value; null unless exactly 130 bytes.</summary>
    public static RelayShards? DecodeBitVector(ReadOnlySpan<byte> value)
    {
        if (value.Length != 2 + BitVectorBytes) return null;
        var shards = new List<ushort>();
        for (int i = 0; i < BitVectorBytes; i++)
            for (int bit = 0; bit < 8; bit++)
                if ((value[2 + i] & (1 << bit)) != 0) shards.Add((ushort)(i * 8 + bit));
        return new RelayShards(BinaryPrimitives.ReadUInt16BigEndian(value), shards);
    }
}
