using System.Buffers.Binary;
using System.Numerics;

namespace StoreSync.Libp2p.Discovery.Enr;

/// <summary>A node's 256-bit address in the discovery DHT; for the "v4" scheme, keccak256 of the uncompressed public key x ‖ y.</summary>
/// <remarks>Four big-endian words, so it is a cheap dictionary key and XOR distance needs no allocation.</remarks>
public readonly struct NodeId : IEquatable<NodeId>, IComparable<NodeId>
{
    public const int Length = 32;

    readonly ulong _a, _b, _c, _d;

    NodeId(ulong a, ulong b, ulong c, ulong d) => (_a, _b, _c, _d) = (a, b, c, d);

    /// <exception cref="ArgumentException">Not 32 bytes.</exception>
    public NodeId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length) throw new ArgumentException($"a node id is {Length} bytes, not {bytes.Length}", nameof(bytes));
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>The XOR metric of discv5-theory.md: <c>distance(a, b) = a XOR b</c>, read as a big-endian number.</summary>
    public static NodeId Xor(NodeId x, NodeId y) => new(x._a ^ y._a, x._b ^ y._b, x._c ^ y._c, x._d ^ y._d);

    /// <summary><c>logdistance(a, b) = log2(distance(a, b))</c> rounded up to a bucket: 0 for equal ids, else 1…256.</summary>
    public static int LogDistance(NodeId x, NodeId y)
    {
        var d = Xor(x, y);
        if (d._a != 0) return 256 - BitOperations.LeadingZeroCount(d._a);
        if (d._b != 0) return 192 - BitOperations.LeadingZeroCount(d._b);
        if (d._c != 0) return 128 - BitOperations.LeadingZeroCount(d._c);
        if (d._d != 0) return 64 - BitOperations.LeadingZeroCount(d._d);
        return 0;
    }

    /// <summary>Orders by value, so <c>Xor(target, a).CompareTo(Xor(target, b))</c> says which of a and b is closer to target.</summary>
    public int CompareTo(NodeId other)
    {
        int c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        if (c != 0) return c;
        c = _c.CompareTo(other._c);
        return c != 0 ? c : _d.CompareTo(other._d);
    }

    public bool Equals(NodeId other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is NodeId other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c, _d);

    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);

    public static NodeId Parse(string hex) => new(Convert.FromHexString(hex));

    public override string ToString() => Convert.ToHexStringLower(ToArray());
}
