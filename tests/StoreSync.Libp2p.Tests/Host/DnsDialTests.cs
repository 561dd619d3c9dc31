using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Tests.Host;

/// <summary>Dialing by DNS name: /dns4 and /dns resolve through the system resolver (localhost here, no network needed).</summary>
public class DnsDialTests
{
    [Theory]
    [InlineData("/dns4/localhost", "/ip4/127.0.0.1/tcp/0")]
    [InlineData("/dns/localhost", "/ip4/127.0.0.1/tcp/0")]
    public async Task A_dns_address_is_resolved_and_dialed_with_the_peer_checked(string name, string listen)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        await using var server = await TestHosts.StartAsync(listen: listen);
        await using var client = await TestHosts.StartAsync();
        var port = server.ListenAddresses[0].ToTcpDialTarget().Port;
        var address = Multiaddr.Parse($"{name}/tcp/{port}/p2p/{server.PeerId}");
        var connection = await client.DialAsync(address, ct);
        Assert.Equal(server.PeerId, connection.RemotePeer);
        Assert.True(await connection.PingAsync(ct) >= TimeSpan.Zero);
    }
}
