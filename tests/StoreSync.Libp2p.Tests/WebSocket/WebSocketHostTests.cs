using System.Security.Cryptography;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Tests.Host;
using StoreSync.Libp2p.Transports;
using StoreSync.Libp2p.WebSocket;
using StoreSync.Testing;
using StoreSync.Testing.Libp2p;

namespace StoreSync.Libp2p.Tests.WebSocket;

/// <summary>Two real hosts over /ws and /wss on 127.0.0.1: the same upgrade (multistream, Noise, yamux), identify, ping and
/// streams as over TCP, and the same connection limits.</summary>
public sealed class WebSocketHostTests : IDisposable
{
    readonly TestCertificate _certificate = new();
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    CancellationToken Timeout => _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        _certificate.Dispose();
    }

    /// <summary>Options for both sides: the listener presents the test certificate, the dialer trusts exactly it.</summary>
    HostOptions Options => TestHosts.Options with
    {
        WebSocket = new WebSocketOptions
        {
            Certificate = WebSocketCertificate.LoadPem(_certificate.CertificatePath, _certificate.KeyPath),
            ServerCertificateValidation = (_, presented, _, _) => _certificate.Validate(presented),
        },
    };

    static string Listen(string kind) => kind switch { "ws" => "/ip4/127.0.0.1/tcp/0/ws", "wss" => "/ip4/127.0.0.1/tcp/0/wss", _ => "/ip4/127.0.0.1/tcp/0" };

    [Theory]
    [InlineData("ws")]
    [InlineData("wss")]
    public async Task Hosts_identify_ping_and_echo_16_MiB_over_websocket(string kind)
    {
        await using var server = await TestHosts.StartAsync(Options, listen: Listen(kind));
        await using var client = await TestHosts.StartAsync(Options);
        var address = server.ListenAddresses.Single();
        Assert.Matches($@"^/ip4/127\.0\.0\.1/tcp/\d+/{kind}/p2p/{server.PeerId}$", address.ToString());

        var connection = await client.DialAsync(address, Timeout);
        Assert.Equal(server.PeerId, connection.RemotePeer);
        Assert.EndsWith($"/{kind}/p2p/{server.PeerId}", connection.RemoteAddress.ToString());
        var info = await connection.Identified.WaitAsync(Timeout);
        Assert.NotNull(info);
        Assert.Contains(TestHosts.EchoProtocol, info!.Protocols);
        Assert.Contains(address.WithoutPeerId(), info.ListenAddresses);
        Assert.True(await connection.PingAsync(Timeout) >= TimeSpan.Zero);
        Assert.True(await server.PingAsync(client.PeerId, Timeout) >= TimeSpan.Zero); // back over the same connection

        var data = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);
        await using var stream = await connection.NewStreamAsync(TestHosts.EchoProtocol, Timeout);
        var echoed = await TestHosts.EchoRoundTripAsync(stream, data, () => stream.CloseWriteAsync(Timeout), Timeout);
        Assert.True(data.AsSpan().SequenceEqual(echoed));
    }

    [Fact]
    public async Task One_host_listens_on_tcp_ws_and_wss_at_once_and_is_dialled_on_each()
    {
        var server = new Libp2pHost(StoreSync.Libp2p.Identity.IdentityKey.Generate(StoreSync.Libp2p.Identity.KeyType.Secp256k1), Options);
        await using (server)
        {
            server.SetStreamHandler(TestHosts.EchoProtocol, TestHosts.EchoAsync);
            await server.StartAsync([Multiaddr.Parse(Listen("tcp")), Multiaddr.Parse(Listen("ws")), Multiaddr.Parse(Listen("wss"))], Timeout);
            Assert.Equal([TransportKind.Tcp, TransportKind.WebSocket, TransportKind.SecureWebSocket],
                server.ListenAddresses.Select(a => TransportAddress.Parse(a).Kind));
            foreach (var address in server.ListenAddresses)
            {
                await using var client = await TestHosts.StartAsync(Options);
                var connection = await client.DialAsync(address, Timeout);
                await using var stream = await connection.NewStreamAsync(TestHosts.EchoProtocol, Timeout);
                Assert.Equal([7, 8, 9], await TestHosts.EchoRoundTripAsync(stream, [7, 8, 9], () => stream.CloseWriteAsync(Timeout), Timeout));
            }
        }
    }

    [Fact]
    public async Task The_tls_ws_spelling_dials_the_wss_listener()
    {
        await using var server = await TestHosts.StartAsync(Options, listen: Listen("wss"));
        await using var client = await TestHosts.StartAsync(Options);
        var wss = server.ListenAddresses.Single().ToString();
        var tlsWs = Multiaddr.Parse(wss.Replace("/wss/", "/tls/sni/localhost/ws/", StringComparison.Ordinal));
        var connection = await client.DialAsync(tlsWs, Timeout);
        Assert.True(await connection.PingAsync(Timeout) >= TimeSpan.Zero);
    }

    [Fact]
    public async Task A_wss_server_with_an_untrusted_certificate_is_refused()
    {
        await using var server = await TestHosts.StartAsync(Options, listen: Listen("wss"));
        await using var client = await TestHosts.StartAsync(TestHosts.Options); // the system trust store: a self-signed certificate fails
        var e = await Assert.ThrowsAnyAsync<Exception>(() => client.DialAsync(server.ListenAddresses[0], Timeout));
        Assert.IsAssignableFrom<System.Security.Authentication.AuthenticationException>(e);
        Assert.Empty(client.Connections);
    }

    [Fact]
    public async Task Listening_on_wss_without_a_certificate_is_a_clear_error()
    {
        await using var host = new Libp2pHost(StoreSync.Libp2p.Identity.IdentityKey.Generate(StoreSync.Libp2p.Identity.KeyType.Ed25519), TestHosts.Options);
        var e = await Assert.ThrowsAsync<UnsupportedTransportException>(() => host.StartAsync([Multiaddr.Parse(Listen("wss"))], Timeout));
        Assert.Contains("certificate", e.Message);
    }

    [Fact]
    public async Task Websocket_connections_beyond_the_limit_are_refused_and_the_first_keeps_working()
    {
        var logs = new CollectingLoggerFactory();
        await using var server = await TestHosts.StartAsync(Options with { MaxConnections = 1 }, logs: logs, listen: Listen("ws"));
        await using var first = await TestHosts.StartAsync(Options);
        await using var second = await TestHosts.StartAsync(Options);
        var kept = await first.DialAsync(server.ListenAddresses[0], Timeout);
        await Polling.WaitUntil(() => server.Connections.Count == 1, "the first connection registered", 10);
        await Assert.ThrowsAnyAsync<Exception>(() => second.DialAsync(server.ListenAddresses[0], Timeout));
        await logs.WaitForAsync("connection limit of 1 reached", TimeSpan.FromSeconds(10));
        Assert.True(await kept.PingAsync(Timeout) >= TimeSpan.Zero);
    }

    [Fact]
    public async Task Inbound_websocket_streams_beyond_the_handler_limit_are_reset()
    {
        const string Hold = "/storesync/test/hold/1.0.0";
        await using var server = await TestHosts.StartAsync(Options with { MaxInboundStreamsPerConnection = 2 }, listen: Listen("ws"));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.SetStreamHandler(Hold, async (_, ct) => await release.Task.WaitAsync(ct));
        await using var client = await TestHosts.StartAsync(Options);
        var connection = await client.DialAsync(server.ListenAddresses[0], Timeout);
        await using var a = await connection.NewStreamAsync(Hold, Timeout);
        await using var b = await connection.NewStreamAsync(Hold, Timeout);
        await Polling.WaitUntil(() => server.RunningHandlers >= 2, "two handlers running", 10);
        await Assert.ThrowsAnyAsync<Exception>(() => connection.NewStreamAsync(Hold, Timeout));
        release.SetResult();
        Assert.False(connection.IsClosed);
    }

    [Fact]
    public async Task An_idle_websocket_connection_is_closed()
    {
        await using var server = await TestHosts.StartAsync(Options with { IdleTimeout = TimeSpan.FromMilliseconds(300) }, listen: Listen("ws"));
        await using var client = await TestHosts.StartAsync(Options);
        var connection = await client.DialAsync(server.ListenAddresses[0], Timeout);
        await connection.Identified.WaitAsync(Timeout);
        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(connection.IsClosed);
    }
}
