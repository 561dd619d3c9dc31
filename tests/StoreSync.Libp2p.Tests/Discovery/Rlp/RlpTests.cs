using StoreSync.Libp2p.Discovery.Rlp;

namespace StoreSync.Libp2p.Tests.Discovery.Rlp;

/// <summary>The RLP examples of the Ethereum wiki and yellow paper, and the non-canonical forms a reader must refuse.</summary>
public class RlpTests
{
    const string Lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";

    [Theory]
    [InlineData("dog", "83646f67")]
    [InlineData("", "80")]
    [InlineData("\u000f", "0f")]
    [InlineData(Lorem, "b8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c6974")]
    public void Strings(string text, string hex)
    {
        var writer = new RlpWriter();
        writer.WriteBytes(System.Text.Encoding.ASCII.GetBytes(text));
        Assert.Equal(hex, Hex.Of(writer.Written));
        var reader = new RlpReader(Hex.Bytes(hex));
        Assert.Equal(text, System.Text.Encoding.ASCII.GetString(reader.ReadBytes()));
        reader.EnsureEnd();
    }

    [Theory]
    [InlineData(0ul, "80")]
    [InlineData(15ul, "0f")]
    [InlineData(1024ul, "820400")]
    [InlineData(ulong.MaxValue, "88ffffffffffffffff")]
    public void Integers(ulong value, string hex)
    {
        var writer = new RlpWriter();
        writer.WriteUInt64(value);
        Assert.Equal(hex, Hex.Of(writer.Written));
        var reader = new RlpReader(Hex.Bytes(hex));
        Assert.Equal(value, reader.ReadUInt64());
    }

    [Fact]
    public void Lists_nested_and_long()
    {
        var writer = new RlpWriter(16);
        int outer = writer.BeginList();
        writer.EndList(writer.BeginList());
        int one = writer.BeginList();
        writer.EndList(writer.BeginList());
        writer.EndList(one);
        int two = writer.BeginList();
        writer.EndList(writer.BeginList());
        int inner = writer.BeginList();
        writer.EndList(writer.BeginList());
        writer.EndList(inner);
        writer.EndList(two);
        writer.EndList(outer);
        Assert.Equal("c7c0c1c0c3c0c1c0", Hex.Of(writer.Written));

        writer.Reset();
        int list = writer.BeginList();
        writer.WriteBytes(System.Text.Encoding.ASCII.GetBytes("cat"));
        writer.WriteBytes(System.Text.Encoding.ASCII.GetBytes(Lorem));
        writer.EndList(list);
        Assert.Equal("f83e83636174b8384c6f72656d", Hex.Of(writer.Written[..13]));
        var reader = new RlpReader(writer.Written).ReadList();
        Assert.Equal("cat", System.Text.Encoding.ASCII.GetString(reader.ReadBytes()));
        Assert.Equal(Lorem, System.Text.Encoding.ASCII.GetString(reader.ReadBytes()));
        reader.EnsureEnd();
    }

    [Theory]
    [InlineData("8100")]          // a byte below 0x80 wrapped in a header
    [InlineData("b800")]          // long form with a leading-zero length
    [InlineData("b80100")]        // long form for a short length
    [InlineData("83646f")]        // truncated string
    [InlineData("c3")]            // truncated list
    [InlineData("bb7fffffff")]    // length far past the input
    [InlineData("")]              // nothing
    public void Non_canonical_or_truncated_input_is_refused(string hex)
    {
        Assert.Throws<RlpException>(() => new RlpReader(Hex.Bytes(hex)).ReadEncoded().Length);
    }

    [Fact]
    public void Integer_with_leading_zero_or_over_eight_bytes_is_refused()
    {
        Assert.Throws<RlpException>(() => new RlpReader(Hex.Bytes("820004")).ReadUInt64());
        Assert.Throws<RlpException>(() => new RlpReader(Hex.Bytes("89010000000000000000")).ReadUInt64());
        Assert.Throws<RlpException>(() => new RlpReader(Hex.Bytes("c0")).ReadUInt64());
    }
}
