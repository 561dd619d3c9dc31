using System.Net.Sockets;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Transports;

namespace StoreSync.Libp2p.Tests.WebSocket;

/// <summary>The multiaddr shapes js-libp2p's tcp and websockets transports dial, and how their binary forms round-trip.</summary>
public sealed class TransportAddressTests
{
    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/60000", "127.0.0.1", 60000, TransportKind.Tcp, null)]
    [InlineData("/ip4/127.0.0.1/tcp/8000/ws", "127.0.0.1", 8000, TransportKind.WebSocket, null)]
    [InlineData("/ip6/::1/tcp/8000/ws/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp", "::1", 8000, TransportKind.WebSocket, null)]
    [InlineData("/dns4/node.example/tcp/443/wss", "node.example", 443, TransportKind.SecureWebSocket, "node.example")]
    [InlineData("/ip4/1.2.3.4/tcp/443/wss", "1.2.3.4", 443, TransportKind.SecureWebSocket, null)]
    [InlineData("/dns/node.example/tcp/443/tls/ws", "node.example", 443, TransportKind.SecureWebSocket, "node.example")]
    [InlineData("/ip4/1.2.3.4/tcp/443/tls/sni/node.example/ws", "1.2.3.4", 443, TransportKind.SecureWebSocket, "node.example")]
    public void Dialable_shapes_parse(string text, string host, int port, TransportKind kind, string? serverName)
    {
        var address = Multiaddr.Parse(text);
        var parsed = TransportAddress.Parse(address);
        Assert.Equal((host, port, kind, serverName), (parsed.Host, parsed.Port, parsed.Kind, parsed.ServerName));
        Assert.Equal(text, address.ToString()); // printed as written, as js-libp2p does
        Assert.Equal(address, Multiaddr.FromBytes(address.ToBytes()));
    }

    [Theory]
    [InlineData("/ip4/1.2.3.4/udp/443/quic-v1")]
    [InlineData("/ip4/1.2.3.4/tcp/443/ws/ws")]
    [InlineData("/ip4/1.2.3.4/tcp/443/tls")]
    [InlineData("/ip4/1.2.3.4/tcp/443/wss/p2p-circuit")]
    [InlineData("/ip4/1.2.3.4/tcp/443/http")]
    public void Other_shapes_are_unsupported(string text) =>
        Assert.Throws<UnsupportedTransportException>(() => TransportAddress.Parse(Multiaddr.Parse(text)));

    [Fact]
    public void The_binary_codes_are_the_multicodec_tables()
    {
        // /ws is 0x01dd and /wss 0x01de, /tls 0x01c0 (multiformats/multicodec table.csv), each without a value.
        Assert.Equal("047f000001" + "061f40" + "dd03", Convert.ToHexStringLower(Multiaddr.Parse("/ip4/127.0.0.1/tcp/8000/ws").ToBytes()));
        Assert.Equal("047f000001061f40de03", Convert.ToHexStringLower(Multiaddr.Parse("/ip4/127.0.0.1/tcp/8000/wss").ToBytes()));
        Assert.Equal("047f000001061f40c003dd03", Convert.ToHexStringLower(Multiaddr.Parse("/ip4/127.0.0.1/tcp/8000/tls/ws").ToBytes()));
        Assert.Equal("[::1]:80", TransportAddress.Parse(Multiaddr.Parse("/ip6/::1/tcp/80/ws")).HttpHost);
        Assert.Equal(AddressFamily.InterNetworkV6, TransportAddress.Parse(Multiaddr.Parse("/ip6/::1/tcp/80/ws")).Family);
    }
}
