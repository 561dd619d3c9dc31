using System.Net;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Tests.Multiformats;

/// <summary>Canonical text survives text → bytes → text for generated addresses of every supported protocol.</summary>
public class MultiaddrPropertyTests
{
    private static readonly string[] PeerIds =
    [
        "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp",
        "16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY",
        "QmVMT29id3TUASyfZZ6k9hmNyc2nYabCo4uMSpDw4zrgDk",
    ];

    private static Gen<string> Component()
    {
        var port = Gen.Choose(0, 65535).Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var ip4 = Gen.ArrayOf(Gen.Choose(0, 255), 4).Select(b => string.Join('.', b));
        var ip6 = Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i), 16).Select(b => new IPAddress(b).ToString());
        var label = Gen.ArrayOf(Gen.Elements("abcdefghijklmnopqrstuvwxyz0123456789-.é".ToCharArray())).Where(c => c.Length > 0).Select(c => new string(c));
        return Gen.OneOf(
            ip4.Select(v => "/ip4/" + v),
            ip6.Select(v => "/ip6/" + v),
            port.Select(v => "/tcp/" + v),
            port.Select(v => "/udp/" + v),
            Gen.Elements("dns", "dns4", "dns6").SelectMany(p => label, (p, l) => $"/{p}/{l}"),
            Gen.Elements(PeerIds).Select(v => "/p2p/" + v),
            Gen.Elements("/ws", "/wss", "/quic", "/quic-v1", "/p2p-circuit", "/webrtc-direct", "/tls", "/http"),
            label.Select(l => "/sni/" + l));
    }

    [Property(MaxTest = 500)]
    public Property Text_to_bytes_to_text_is_identity() =>
        Prop.ForAll(Gen.ArrayOf(Component()).Where(c => c.Length is > 0 and <= 8).Select(string.Concat).ToArbitrary(), text =>
        {
            var bytes = Multiaddr.Parse(text).ToBytes();
            var back = Multiaddr.FromBytes(bytes);
            return back.ToString() == text && back.ToBytes().AsSpan().SequenceEqual(bytes);
        });

    [Fact]
    public void From_endpoint_and_dial_target()
    {
        Assert.Equal("/ip4/127.0.0.1/tcp/60000", Multiaddr.FromEndPoint(new IPEndPoint(IPAddress.Loopback, 60000)).ToString());
        Assert.Equal("/ip6/::1/tcp/5", Multiaddr.FromEndPoint(new IPEndPoint(IPAddress.IPv6Loopback, 5)).ToString());
        Assert.Equal("/ip4/127.0.0.1/tcp/7", Multiaddr.FromEndPoint(new IPEndPoint(IPAddress.Loopback.MapToIPv6(), 7)).ToString());

        Assert.Equal(("127.0.0.1", 60000, System.Net.Sockets.AddressFamily.InterNetwork),
            Multiaddr.Parse("/ip4/127.0.0.1/tcp/60000/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp").ToTcpDialTarget());
        Assert.Equal(("::1", 1, System.Net.Sockets.AddressFamily.InterNetworkV6), Multiaddr.Parse("/ip6/::1/tcp/1").ToTcpDialTarget());
        Assert.Equal(("example.com", 2, System.Net.Sockets.AddressFamily.Unspecified), Multiaddr.Parse("/dns/example.com/tcp/2").ToTcpDialTarget());
        Assert.Equal(("example.com", 3, System.Net.Sockets.AddressFamily.InterNetwork), Multiaddr.Parse("/dns4/example.com/tcp/3").ToTcpDialTarget());
        Assert.Equal(("example.com", 4, System.Net.Sockets.AddressFamily.InterNetworkV6), Multiaddr.Parse("/dns6/example.com/tcp/4").ToTcpDialTarget());
    }

    [Theory]
    [InlineData("/ip4/1.2.3.4/tcp/8000/ws")]
    [InlineData("/dns4/example.com/tcp/443/wss")]
    [InlineData("/ip4/10.0.0.1/udp/9000/quic-v1")]
    [InlineData("/ip4/1.2.3.4")]
    [InlineData("/tcp/1")]
    [InlineData("/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp")]
    public void Other_transports_cannot_be_dialled(string text)
    {
        var e = Assert.Throws<UnsupportedTransportException>(() => Multiaddr.Parse(text).ToTcpDialTarget());
        Assert.StartsWith("unsupported transport " + text, e.Message);
    }

    [Fact]
    public void Peer_id_is_added_replaced_and_removed()
    {
        var a = PeerId.Parse(PeerIds[0]);
        var b = PeerId.Parse(PeerIds[1]);
        var addr = Multiaddr.Parse("/ip4/127.0.0.1/tcp/1");
        Assert.Null(addr.PeerId);
        var withA = addr.WithPeerId(a);
        Assert.Equal(a, withA.PeerId);
        Assert.Equal($"/ip4/127.0.0.1/tcp/1/p2p/{b}", withA.WithPeerId(b).ToString());
        Assert.Equal(addr, withA.WithoutPeerId());
        Assert.Same(addr, addr.WithoutPeerId());
        Assert.Equal(withA.GetHashCode(), Multiaddr.Parse(withA.ToString()).GetHashCode());
    }

    [Fact]
    public void Empty_and_trailing_slash_forms()
    {
        Assert.Empty(Multiaddr.Parse("/").Components);
        Assert.Equal("/", Multiaddr.FromBytes([]).ToString());
        Assert.Equal("/ip4/1.2.3.4/tcp/5", Multiaddr.Parse("/ip4/1.2.3.4/tcp/5/").ToString());
    }
}
