using System.Net.Sockets;
using System.Security.Cryptography;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Multistream;
using StoreSync.Testing.Libp2p;

namespace StoreSync.Libp2p.Tests.Host;

public sealed class Libp2pHostTests : IAsyncDisposable
{
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    CancellationToken Timeout => _timeout.Token;
    const string Echo = "/test/echo/1.0.0";
    readonly List<Libp2pHost> _hosts = [];

    async Task<Libp2pHost> StartHost(HostOptions? options = null, KeyType keyType = KeyType.Ed25519)
    {
        var host = new Libp2pHost(IdentityKey.Generate(keyType), options ?? new HostOptions { Security = new PlaintextSecurity() });
        host.SetStreamHandler(Echo, async (stream, ct) =>
        {
            await stream.CopyToAsync(stream, ct);
            await stream.CloseWriteAsync(ct);
        });
        await host.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], Timeout);
        _hosts.Add(host);
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var h in _hosts) await h.DisposeAsync();
        _timeout.Dispose();
    }

    async Task<byte[]> EchoAsync(Libp2pStream stream, byte[] data)
    {
        var reader = Task.Run(async () => { var m = new MemoryStream(); await stream.CopyToAsync(m, Timeout); return m.ToArray(); });
        await stream.WriteAsync(data, Timeout);
        await stream.CloseWriteAsync(Timeout);
        return await reader;
    }

    [Fact]
    public async Task Hosts_dial_negotiate_and_echo_with_proven_peer_ids()
    {
        var a = await StartHost(keyType: KeyType.Secp256k1);
        var b = await StartHost();
        var address = Assert.Single(a.ListenAddresses);
        Assert.Equal(a.PeerId, address.PeerId);
        var connected = new TaskCompletionSource<Connection>();
        a.PeerConnected += c => connected.TrySetResult(c);

        var stream = await b.NewStreamAsync(address, Echo, Timeout);
        Assert.Equal(a.PeerId, stream.RemotePeer);
        Assert.Equal(Echo, stream.Protocol);
        var data = RandomNumberGenerator.GetBytes(4 << 20);
        Assert.Equal(data, await EchoAsync(stream, data));
        Assert.Equal(b.PeerId, (await connected.Task.WaitAsync(Timeout)).RemotePeer);

        // A second stream reuses the connection.
        var again = await b.NewStreamAsync(address, Echo, Timeout);
        Assert.Same(stream.Connection, again.Connection);
        Assert.Single(b.Connections);
    }

    [Fact]
    public async Task An_unsupported_protocol_fails_the_stream_not_the_connection()
    {
        var a = await StartHost();
        var b = await StartHost();
        await Assert.ThrowsAsync<MultistreamException>(() => b.NewStreamAsync(a.ListenAddresses[0], "/nope/1", Timeout));
        var stream = await b.NewStreamAsync(a.ListenAddresses[0], Echo, Timeout);
        Assert.Equal("hi"u8.ToArray(), await EchoAsync(stream, "hi"u8.ToArray()));
    }

    [Fact]
    public async Task Dialing_the_wrong_peer_id_fails()
    {
        var a = await StartHost();
        var b = await StartHost();
        var wrong = a.ListenAddresses[0].WithPeerId(IdentityKey.Generate(KeyType.Ed25519).PeerId);
        await Assert.ThrowsAsync<IOException>(() => b.DialAsync(wrong, Timeout));
    }

    [Fact]
    public async Task A_handler_that_throws_resets_its_stream_only()
    {
        var a = await StartHost();
        a.SetStreamHandler("/boom/1", (_, _) => throw new InvalidOperationException("boom"));
        var b = await StartHost();
        // The reset may overtake the end of the negotiation or come after it: either way this stream fails.
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            var stream = await b.NewStreamAsync(a.ListenAddresses[0], "/boom/1", Timeout);
            var buf = new byte[1];
            while (await stream.ReadAsync(buf, Timeout) > 0) { }
        });
        var echo = await b.NewStreamAsync(a.ListenAddresses[0], Echo, Timeout);
        Assert.Equal("ok"u8.ToArray(), await EchoAsync(echo, "ok"u8.ToArray()));
    }

    [Fact]
    public async Task Connections_beyond_the_limit_are_refused_and_the_first_keeps_working()
    {
        var a = await StartHost(new HostOptions { Security = new PlaintextSecurity(), MaxConnections = 1 });
        var b = await StartHost();
        var c = await StartHost();
        var first = await b.NewStreamAsync(a.ListenAddresses[0], Echo, Timeout);
        await Assert.ThrowsAnyAsync<Exception>(() => c.DialAsync(a.ListenAddresses[0], Timeout));
        Assert.Equal("x"u8.ToArray(), await EchoAsync(first, "x"u8.ToArray()));
    }

    [Theory]
    [InlineData(false)] // says nothing
    [InlineData(true)]  // random bytes
    public async Task A_bad_raw_peer_is_dropped_in_bounded_time(bool garbage)
    {
        var a = await StartHost(new HostOptions { Security = new PlaintextSecurity(), HandshakeTimeout = TimeSpan.FromMilliseconds(500) });
        var (host, port, _) = a.ListenAddresses[0].ToTcpDialTarget();
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, Timeout);
        var stream = client.GetStream();
        if (garbage) await stream.WriteAsync(RandomNumberGenerator.GetBytes(5000), Timeout);
        var buffer = new byte[4096];
        // The host may answer its multistream header first; then it must close.
        while (await stream.ReadAsync(buffer, Timeout) > 0) { }
        var b = await StartHost();
        var echo = await b.NewStreamAsync(a.ListenAddresses[0], Echo, Timeout);
        Assert.Equal("y"u8.ToArray(), await EchoAsync(echo, "y"u8.ToArray()));
    }

    [Fact]
    public async Task Idle_connections_are_closed()
    {
        var a = await StartHost(new HostOptions { Security = new PlaintextSecurity(), IdleTimeout = TimeSpan.FromMilliseconds(300) });
        var b = await StartHost();
        var gone = new TaskCompletionSource<string>();
        b.PeerDisconnected += (_, reason) => gone.TrySetResult(reason);
        await b.DialAsync(a.ListenAddresses[0], Timeout);
        Assert.Contains("closed", await gone.Task.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Thirty_two_concurrent_streams_on_one_connection()
    {
        var a = await StartHost();
        var b = await StartHost();
        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(async i =>
        {
            var data = RandomNumberGenerator.GetBytes(256 * 1024 + i);
            var s = await b.NewStreamAsync(a.ListenAddresses[0], Echo, Timeout);
            return (data, await EchoAsync(s, data));
        }));
        Assert.All(results, r => Assert.Equal(r.data, r.Item2));
        Assert.Single(b.Connections);
    }
}
