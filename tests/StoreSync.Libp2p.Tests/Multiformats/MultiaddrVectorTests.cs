using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Tests.Multiformats;

/// <summary>The binary encodings produced by @multiformats/multiaddr 12 (libp2p-vectors.txt §4).</summary>
public class MultiaddrVectorTests
{
    public static TheoryData<string, string> Vectors => new()
    {
        { "/ip4/127.0.0.1/tcp/60000", "047f00000106ea60" },
        { "/ip4/127.0.0.1/tcp/60000/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp", "047f00000106ea60a503260024080112204cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29" },
        { "/ip6/::1/tcp/30303", "290000000000000000000000000000000106765f" },
        { "/ip6/2001:db8::1/tcp/443", "2920010db80000000000000000000000010601bb" },
        { "/dns4/localhost/tcp/8000", "36096c6f63616c686f7374061f40" },
        { "/dns6/example.com/tcp/1", "370b6578616d706c652e636f6d060001" },
        { "/dns/node-01.example.org/tcp/30303", "35136e6f64652d30312e6578616d706c652e6f726706765f" },
        { "/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp", "a503260024080112204cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29" },
        { "/ip4/1.2.3.4/tcp/8000/ws", "0401020304061f40dd03" },
        { "/dns4/example.com/tcp/443/wss", "360b6578616d706c652e636f6d0601bbde03" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Text_encodes_to_the_js_bytes(string text, string hex) =>
        Assert.Equal(hex, Hex.Of(Multiaddr.Parse(text).ToBytes()));

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Js_bytes_decode_to_the_text(string text, string hex)
    {
        var addr = Multiaddr.FromBytes(Hex.Bytes(hex));
        Assert.Equal(text, addr.ToString());
        Assert.Equal(Multiaddr.Parse(text), addr);
    }

    [Fact]
    public void P2p_value_is_the_bare_multihash_not_a_cid()
    {
        var addr = Multiaddr.Parse("/ip4/127.0.0.1/tcp/60000/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp");
        Assert.Equal("0024080112204cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29", Hex.Of(addr.Components[^1].Value.Span));
        Assert.Equal("12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp", addr.PeerId!.ToString());
    }

    [Fact]
    public void P2p_accepts_the_cid_form_and_the_ipfs_alias_and_prints_base58()
    {
        const string expected = "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";
        Assert.Equal(expected, Multiaddr.Parse("/ip4/127.0.0.1/tcp/1/p2p/bafzaajaiaejcatfvvp3k26p36wv3zsx4yju5qxgsmupnjoefwwdj6ja25xyklorj").ToString());
        Assert.Equal(expected, Multiaddr.Parse("/ip4/127.0.0.1/tcp/1/ipfs/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp").ToString());
    }

    /// <summary>Encodings produced by js @multiformats/multiaddr 13.0.3 (tests/Interop/libp2p) for these texts.</summary>
    [Theory]
    [InlineData("/ip4/10.0.0.1/udp/9000/quic-v1", "040a00000191022328cd03")]
    [InlineData("/ip4/10.0.0.1/udp/9000/quic", "040a00000191022328cc03")]
    [InlineData("/dnsaddr/bootstrap.libp2p.io", "3813626f6f7473747261702e6c69627032702e696f")]
    [InlineData("/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp/p2p-circuit",
        "0401020304060fa1a503260024080112204cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29a202")]
    [InlineData("/ip4/1.2.3.4/udp/9090/webrtc-direct", "0401020304910223829802")]
    [InlineData("/dns4/example.com/tcp/443/tls/sni/example.com/http", "360b6578616d706c652e636f6d0601bbc003c1030b6578616d706c652e636f6de003")]
    [InlineData("/ip4/1.2.3.4/udp/443/quic-v1/webtransport", "0401020304910201bbcd03d103")]
    [InlineData("/ip4/1.2.3.4/tcp/1/noise", "0401020304060001c603")]
    [InlineData("/ip6/::1/udp/1/webrtc", "2900000000000000000000000000000001910200019902")]
    public void Other_transports_round_trip(string text, string hex)
    {
        Assert.Equal(hex, Hex.Of(Multiaddr.Parse(text).ToBytes()));
        Assert.Equal(text, Multiaddr.FromBytes(Hex.Bytes(hex)).ToString());
        if (!text.Contains("/tcp/") || text.Contains("/p2p-circuit") || text.Contains("/tls") || text.Contains("/noise"))
            Assert.Throws<UnsupportedTransportException>(() => Multiaddr.Parse(text).ToTcpDialTarget());
    }
}
