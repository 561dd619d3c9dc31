using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Tests.Multiformats;

/// <summary>Bad text and bad bytes fail with a FormatException that names the problem, without large allocations.</summary>
public class MultiaddrErrorTests
{
    [Theory]
    [InlineData("", "must start with '/'")]
    [InlineData("ip4/1.2.3.4", "must start with '/'")]
    [InlineData("/ip5/1.2.3.4", "unknown multiaddr protocol 'ip5'")]
    [InlineData("/ip4/1.2.3.256/tcp/1", "invalid ip4 address '1.2.3.256'")]
    [InlineData("/ip4/1.2.3/tcp/1", "invalid ip4 address")]
    [InlineData("/ip4/01.2.3.4/tcp/1", "invalid ip4 address")]
    [InlineData("/ip4/0x7f.0.0.1/tcp/1", "invalid ip4 address")]
    [InlineData("/ip6/1.2.3.4/tcp/1", "invalid ip6 address")]
    [InlineData("/ip6/fe80::1%eth0/tcp/1", "invalid ip6 address")]
    [InlineData("/ip6/::g/tcp/1", "invalid ip6 address")]
    [InlineData("/ip4/1.2.3.4/tcp/65536", "port 65536 is greater than 65535")]
    [InlineData("/ip4/1.2.3.4/tcp/99999999", "greater than 65535")]
    [InlineData("/ip4/1.2.3.4/tcp/-1", "invalid /tcp port '-1'")]
    [InlineData("/ip4/1.2.3.4/tcp/", "ends before the value of /tcp")]
    [InlineData("/ip4/1.2.3.4/tcp", "ends before the value of /tcp")]
    [InlineData("/ip4//tcp/1", "invalid ip4 address ''")]
    [InlineData("/dns4//tcp/1", "needs a non-empty name")]
    [InlineData("/ip4/1.2.3.4//tcp/1", "empty protocol name")]
    [InlineData("/p2p/12D3KooWnotapeerid0", "invalid peer id in /p2p/")]
    [InlineData("/p2p/QmXX", "invalid peer id in /p2p/")]
    public void Bad_text_names_the_problem(string text, string fragment)
    {
        var e = Assert.Throws<FormatException>(() => Multiaddr.Parse(text));
        Assert.Contains(fragment, e.Message);
        Assert.False(Multiaddr.TryParse(text, out var addr));
        Assert.Null(addr);
    }

    [Theory]
    [InlineData("04", "truncated in the value of /ip4")]
    [InlineData("047f0000", "truncated in the value of /ip4")]
    [InlineData("047f00000106ea", "truncated in the value of /tcp")]
    [InlineData("047f00000106ea60a5", "truncated in a protocol code")]
    [InlineData("047f00000106ea60a503", "truncated in the length of /p2p")]
    [InlineData("36096c6f63616c", "truncated in the value of /dns4")]
    [InlineData("7f", "unknown multiaddr protocol code 0x7f")]
    [InlineData("ffffffffffffffff7f", "unknown multiaddr protocol code 0x7fffffffffffffff")]
    [InlineData("ffffffffffffffffffff01", "varint longer than 9 bytes")]
    [InlineData("3580", "truncated in the length of /dns")]
    [InlineData("3600", "needs a non-empty name")]
    [InlineData("36022f61", "must not contain '/'")]
    [InlineData("3602c328", "not valid UTF-8")]
    [InlineData("a5030412200000", "invalid peer id in /p2p/")]
    public void Bad_bytes_name_the_problem(string hex, string fragment)
    {
        var e = Assert.Throws<FormatException>(() => Multiaddr.FromBytes(Hex.Bytes(hex)));
        Assert.Contains(fragment, e.Message);
    }

    [Theory]
    [InlineData("35ffffffffffffffff7f")] // dns with a 2^63-1 byte length
    [InlineData("a503ffffffff0f")]        // p2p with a 4 GiB length
    [InlineData("3681808001")]            // dns with a 2 MiB length
    public void Huge_length_varints_are_rejected_before_allocating(string hex)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<FormatException>(() => Multiaddr.FromBytes(Hex.Bytes(hex)));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("exceeds 512", e.Message);
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes for a {hex.Length / 2}-byte input");
    }

    [Fact]
    public void Oversized_inputs_are_rejected_up_front()
    {
        Assert.Contains("longer than 4096", Assert.Throws<FormatException>(() => Multiaddr.Parse("/dns4/" + new string('a', 5000))).Message);
        Assert.Contains("longer than 2048", Assert.Throws<FormatException>(() => Multiaddr.FromBytes(new byte[3000])).Message);
        var many = string.Concat(Enumerable.Repeat("/ws", 65));
        Assert.Contains("more than 64 components", Assert.Throws<FormatException>(() => Multiaddr.Parse(many)).Message);
    }

    [Fact]
    public void Random_bytes_never_escape_as_anything_but_FormatException()
    {
        var random = new Random(1234);
        for (int i = 0; i < 20_000; i++)
        {
            var bytes = new byte[random.Next(0, 40)];
            random.NextBytes(bytes);
            try
            {
                var addr = Multiaddr.FromBytes(bytes);
                Assert.Equal(bytes, addr.ToBytes());
                Assert.Equal(addr, Multiaddr.Parse(addr.ToString()));
            }
            catch (FormatException)
            {
            }
        }
    }
}
