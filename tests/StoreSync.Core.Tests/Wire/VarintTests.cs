using FsCheck.Xunit;
using Google.Protobuf;
using StoreSync.Core.Wire;

namespace StoreSync.Core.Tests.Wire;

/// <summary>The one varint: the multiformats reader (strict) and the nim-stew reader (lenient) over the same writer.</summary>
public class VarintTests
{
    [Theory]
    [InlineData(0UL, "00")]
    [InlineData(1UL, "01")]
    [InlineData(127UL, "7f")]
    [InlineData(128UL, "8001")]
    [InlineData(300UL, "ac02")]
    [InlineData(16384UL, "808001")]
    [InlineData((1UL << 63) - 1, "ffffffffffffffff7f")]
    [InlineData(ulong.MaxValue, "ffffffffffffffffff01")]
    public void Writes_the_minimal_encoding(ulong value, string hex)
    {
        var buffer = new byte[Varint.MaxUInt64Length];
        int n = Varint.Write(buffer, value);
        Assert.Equal(hex, Convert.ToHexString(buffer, 0, n).ToLowerInvariant());
        Assert.Equal(n, Varint.SizeOf(value));
    }

    [Property]
    public bool Both_readers_read_what_is_written_and_agree_with_protobuf(ulong value)
    {
        var buffer = new byte[Varint.MaxUInt64Length + 1];
        int n = Varint.Write(buffer, value);
        bool lenient = Varint.TryRead(buffer, out ulong read, out int length) && read == value && length == n;
        bool strict = n > Varint.MaxLength || (Varint.Read(buffer, out ulong strictRead) == n && strictRead == value);
        var protobuf = new byte[n];
        new CodedOutputStream(protobuf).WriteUInt64(value);
        return lenient && strict && protobuf.AsSpan().SequenceEqual(buffer.AsSpan(0, n)) && CodedOutputStream.ComputeUInt64Size(value) == n;
    }

    [Fact]
    public void Read_reports_a_truncated_varint_as_zero_bytes()
    {
        Assert.Equal(0, Varint.Read([], out ulong value));
        Assert.Equal(0UL, value);
        Assert.Equal(0, Varint.Read([0x80, 0x80], out value));
        Assert.Equal(0UL, value);
    }

    [Fact]
    public void Read_stops_at_the_varint_and_leaves_what_follows()
    {
        Assert.Equal(2, Varint.Read([0xac, 0x02, 0xff], out ulong value));
        Assert.Equal(300UL, value);
    }

    [Fact]
    public void Read_refuses_overlong_and_non_minimal_encodings()
    {
        Assert.Contains("longer than 9 bytes", Assert.Throws<FormatException>(() => Varint.Read(Convert.FromHexString("ffffffffffffffffff01"), out _)).Message);
        Assert.Contains("not minimally encoded", Assert.Throws<FormatException>(() => Varint.Read([0x80, 0x00], out _)).Message);
        Assert.Contains("not minimally encoded", Assert.Throws<FormatException>(() => Varint.Read([0x81, 0x80, 0x00], out _)).Message);
    }

    [Fact]
    public void TryRead_accepts_non_minimal_encodings_as_nim_stew_writes_them()
    {
        Assert.True(Varint.TryRead([0x80, 0x00], out ulong value, out int length));
        Assert.Equal((0UL, 2), (value, length));
        Assert.True(Varint.TryRead([0x81, 0x80, 0x00, 0x7f], out value, out length));
        Assert.Equal((1UL, 3), (value, length));
    }

    [Fact]
    public void TryRead_fails_on_truncation_and_on_overflow_past_64_bits()
    {
        Assert.False(Varint.TryRead([], out ulong value, out int length));
        Assert.Equal((0UL, 0), (value, length));
        Assert.False(Varint.TryRead([0xff, 0xff, 0xff], out value, out length));        // unterminated
        Assert.Equal((0UL, 0), (value, length));
        Assert.False(Varint.TryRead(Convert.FromHexString("ffffffffffffffffff02"), out _, out _)); // bit 64
        Assert.False(Varint.TryRead(Convert.FromHexString("ffffffffffffffffff8001"), out _, out _)); // an 11th byte
        Assert.False(Varint.TryRead(Convert.FromHexString("ffffffffffffffffffffff"), out _, out _)); // overlong
        Assert.True(Varint.TryRead(Convert.FromHexString("ffffffffffffffffff01"), out value, out length));
        Assert.Equal((ulong.MaxValue, 10), (value, length));
    }
}
