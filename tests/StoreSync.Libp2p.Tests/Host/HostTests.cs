using System.Security.Cryptography;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identify;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multistream;
using StoreSync.Libp2p.Ping;
using StoreSync.Testing;

namespace StoreSync.Libp2p.Tests.Host;

/// <summary>Two C# hosts over loopback TCP: dial, identify, ping, streams, events and the connection manager.</summary>
public class HostTests
{
    [Fact]
    public async Task Listen_addresses_resolve_port_zero_and_carry_the_peer_id()
    {
        await using var host = await TestHosts.StartAsync();
        var address = Assert.Single(host.ListenAddresses);
        Assert.Equal(host.PeerId, address.PeerId);
        var (ip, port, _) = address.ToTcpDialTarget();
        Assert.Equal("127.0.0.1", ip);
        Assert.NotEqual(0, port);
    }

    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/0", KeyType.Ed25519)]
    [InlineData("/ip6/::1/tcp/0", KeyType.Secp256k1)]
    public async Task Dial_identifies_both_sides_and_pings_both_ways(string listen, KeyType keyType)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        await using var server = await TestHosts.StartAsync(listen: listen, keyType: keyType);
        await using var client = await TestHosts.StartAsync(listen: listen, keyType: keyType);
        var inbound = new TaskCompletionSource<Connection>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.PeerConnected += c => inbound.TrySetResult(c);

        var connection = await client.DialAsync(server.ListenAddresses[0], ct);
        Assert.Equal(server.PeerId, connection.RemotePeer);
        Assert.False(connection.IsInbound);
        var serverSide = await inbound.Task.WaitAsync(ct);
        Assert.True(serverSide.IsInbound);
        Assert.Equal(client.PeerId, serverSide.RemotePeer);

        var info = await connection.Identified.WaitAsync(ct);
        Assert.NotNull(info);
        Assert.Equal(server.PeerId, info.PeerId);
        Assert.Equal("storesync/0.1", info.AgentVersion);
        Assert.Equal(IdentifyProtocol.LibP2PProtocolVersion, info.ProtocolVersion);
        Assert.Contains(IdentifyProtocol.ProtocolId, info.Protocols);
        Assert.Contains(PingProtocol.ProtocolId, info.Protocols);
        Assert.Contains(TestHosts.EchoProtocol, info.Protocols);
        Assert.Equal(server.ListenAddresses[0].WithoutPeerId(), Assert.Single(info.ListenAddresses));
        Assert.Equal(connection.LocalAddress, info.ObservedAddress);
        var reverse = await serverSide.Identified.WaitAsync(ct);
        Assert.Equal(client.PeerId, reverse!.PeerId);
        Assert.Same(reverse, serverSide.RemoteIdentify);

        Assert.True(await connection.PingAsync(ct) < TimeSpan.FromSeconds(10));
        Assert.True(await server.PingAsync(client.PeerId, ct) < TimeSpan.FromSeconds(10));
        Assert.Single(server.Connections); // the ping back reused the inbound connection
    }

    [Fact]
    public async Task A_stream_reports_its_peer_and_protocol_and_echoes_16_MiB_with_half_close()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        var seen = new TaskCompletionSource<(PeerId, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.SetStreamHandler("/storesync/test/who/1.0.0", (s, _) => { seen.TrySetResult((s.RemotePeer, s.Protocol)); return Task.CompletedTask; });

        await using (var who = await client.NewStreamAsync(server.ListenAddresses[0], "/storesync/test/who/1.0.0", ct))
        {
            Assert.Equal(server.PeerId, who.RemotePeer);
            Assert.Equal(0, await who.ReadAsync(new byte[1], ct)); // the handler returned: the host half-closed
        }
        Assert.Equal((client.PeerId, "/storesync/test/who/1.0.0"), await seen.Task.WaitAsync(ct));

        var data = RandomNumberGenerator.GetBytes(16 << 20);
        await using var stream = await client.NewStreamAsync(server.PeerId, TestHosts.EchoProtocol, ct);
        var echoed = await TestHosts.EchoRoundTripAsync(stream, data, () => stream.CloseWriteAsync(ct), ct);
        Assert.True(data.AsSpan().SequenceEqual(echoed));
        Assert.Single(client.Connections);
    }

    [Fact]
    public async Task Thirty_two_concurrent_streams_on_one_connection()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        var connection = await client.DialAsync(server.ListenAddresses[0], ct);
        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(async i =>
        {
            var data = RandomNumberGenerator.GetBytes(256 * 1024 + i);
            await using var stream = await connection.NewStreamAsync(TestHosts.EchoProtocol, ct);
            var echoed = await TestHosts.EchoRoundTripAsync(stream, data, () => stream.CloseWriteAsync(ct), ct);
            return data.AsSpan().SequenceEqual(echoed);
        }));
        Assert.All(results, Assert.True);
        Assert.Single(client.Connections);
    }

    [Fact]
    public async Task Dials_reuse_and_coalesce_unless_a_new_connection_is_forced()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        var target = server.ListenAddresses[0];
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.DialAsync(target, ct)));
        Assert.All(concurrent, c => Assert.Same(concurrent[0], c));
        Assert.Same(concurrent[0], await client.DialAsync(target, ct));
        var fresh = await client.DialAsync(target, forceNew: true, ct);
        Assert.NotSame(concurrent[0], fresh);
        Assert.Equal(2, client.Connections.Count);
    }

    [Fact]
    public async Task An_unsupported_protocol_is_refused_and_the_connection_stays()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        var e = await Assert.ThrowsAsync<MultistreamException>(() => client.NewStreamAsync(server.ListenAddresses[0], "/nope/1.0.0", ct));
        Assert.Contains("/nope/1.0.0", e.Message);
        Assert.True(await client.PingAsync(server.PeerId, ct) >= TimeSpan.Zero);
    }

    [Fact]
    public async Task Dialing_a_wrong_peer_id_fails()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        var wrong = server.ListenAddresses[0].WithPeerId(IdentityKey.Generate(KeyType.Ed25519).PeerId);
        await Assert.ThrowsAnyAsync<Exception>(() => client.DialAsync(wrong, ct));
        Assert.Empty(client.Connections);
    }

    [Fact]
    public async Task Disconnect_is_reported_on_both_sides_with_a_reason()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        var serverGone = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clientGone = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.PeerDisconnected += (_, reason) => serverGone.TrySetResult(reason);
        client.PeerDisconnected += (_, reason) => clientGone.TrySetResult(reason);
        var connection = await client.DialAsync(server.ListenAddresses[0], ct);
        await connection.Identified.WaitAsync(ct);
        await connection.CloseAsync();
        Assert.Equal("closed locally", await clientGone.Task.WaitAsync(ct));
        Assert.False(string.IsNullOrEmpty(await serverGone.Task.WaitAsync(ct)));
        Assert.Empty(client.Connections);
    }

    [Fact]
    public async Task Connections_beyond_the_limit_are_refused_with_a_logged_reason()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        var logs = new CollectingLoggerFactory();
        await using var server = await TestHosts.StartAsync(TestHosts.Options with { MaxConnections = 1 }, logs: logs);
        await using var first = await TestHosts.StartAsync();
        await using var second = await TestHosts.StartAsync();
        var kept = await first.DialAsync(server.ListenAddresses[0], ct);
        await kept.Identified.WaitAsync(ct);
        await Assert.ThrowsAnyAsync<Exception>(() => second.DialAsync(server.ListenAddresses[0], ct));
        await logs.WaitForAsync("connection limit of 1", TimeSpan.FromSeconds(10));
        Assert.True(await kept.PingAsync(ct) >= TimeSpan.Zero);
    }

    [Fact]
    public async Task An_idle_connection_is_closed()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        await using var server = await TestHosts.StartAsync(TestHosts.Options with { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        await using var client = await TestHosts.StartAsync(TestHosts.Options with { IdleTimeout = Timeout.InfiniteTimeSpan });
        var gone = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.PeerDisconnected += (_, reason) => gone.TrySetResult(reason);
        var connection = await client.DialAsync(server.ListenAddresses[0], ct);
        Assert.Contains("idle", await gone.Task.WaitAsync(ct));
        await connection.Closed.WaitAsync(ct);
    }

    [Fact]
    public async Task Inbound_streams_beyond_the_handler_limit_are_reset()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestHosts.StartAsync(TestHosts.Options with { MaxInboundStreamsPerConnection = 4 });
        server.SetStreamHandler("/storesync/test/hold/1.0.0", async (_, c) => await release.Task.WaitAsync(c));
        await using var client = await TestHosts.StartAsync();
        var connection = await client.DialAsync(server.ListenAddresses[0], ct);
        await connection.Identified.WaitAsync(ct);
        var held = new List<Libp2pStream>();
        for (int i = 0; i < 4; i++) held.Add(await connection.NewStreamAsync("/storesync/test/hold/1.0.0", ct));
        await Assert.ThrowsAnyAsync<IOException>(() => connection.NewStreamAsync("/storesync/test/hold/1.0.0", ct));
        release.SetResult();
        foreach (var s in held) await s.DisposeAsync();
        var serverSide = server.FindConnection(client.PeerId)!;
        for (int i = 0; i < 500 && serverSide.InboundHandlers > 0; i++) await Task.Delay(10, ct); // handlers finish asynchronously
        Assert.Equal(0, serverSide.InboundHandlers);
        Assert.True(await connection.PingAsync(ct) >= TimeSpan.Zero);
    }

    [Fact]
    public async Task Streams_beyond_the_per_connection_limit_are_reset_and_the_connection_stays()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestHosts.StartAsync(TestHosts.Options with { MaxStreamsPerConnection = 3 });
        server.SetStreamHandler("/storesync/test/hold/1.0.0", async (_, c) => await release.Task.WaitAsync(c));
        await using var client = await TestHosts.StartAsync();
        var connection = await client.DialAsync(server.ListenAddresses[0], ct);
        await connection.Identified.WaitAsync(ct);
        var serverSide = server.FindConnection(client.PeerId)!;
        await serverSide.Identified.WaitAsync(ct);
        for (int i = 0; i < 500 && serverSide.ActiveStreams > 0; i++) await Task.Delay(10, ct); // the identify streams wind down
        Assert.Equal(0, serverSide.ActiveStreams);

        var held = new List<Libp2pStream>();
        for (int i = 0; i < 3; i++) held.Add(await connection.NewStreamAsync("/storesync/test/hold/1.0.0", ct));
        Assert.Equal(3, serverSide.ActiveStreams);
        await Assert.ThrowsAnyAsync<IOException>(() => connection.NewStreamAsync("/storesync/test/hold/1.0.0", ct)); // RST for the SYN
        Assert.False(connection.IsClosed);

        release.SetResult();
        foreach (var s in held) await s.DisposeAsync();
        for (int i = 0; i < 500 && serverSide.ActiveStreams > 0; i++) await Task.Delay(10, ct);
        await using var again = await connection.NewStreamAsync(TestHosts.EchoProtocol, ct);
        Assert.Equal([7, 8], await TestHosts.EchoRoundTripAsync(again, [7, 8], () => again.CloseWriteAsync(ct), ct));
    }

    [Fact]
    public async Task Reset_reaches_the_peer()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        var outcome = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestHosts.StartAsync();
        server.SetStreamHandler("/storesync/test/read/1.0.0", async (s, c) =>
        {
            try { while (await s.ReadAsync(new byte[100], c) > 0) { } outcome.TrySetResult(null); }
            catch (IOException e) { outcome.TrySetResult(e); }
        });
        await using var client = await TestHosts.StartAsync();
        var stream = await client.NewStreamAsync(server.ListenAddresses[0], "/storesync/test/read/1.0.0", ct);
        await stream.WriteAsync(new byte[10], ct);
        stream.Reset();
        Assert.IsAssignableFrom<IOException>(await outcome.Task.WaitAsync(ct));
    }
}
