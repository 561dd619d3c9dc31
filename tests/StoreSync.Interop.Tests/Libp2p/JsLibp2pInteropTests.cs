using System.Security.Cryptography;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identify;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Libp2p.Ping;
using StoreSync.Libp2p.WebSocket;
using StoreSync.Testing.Interop;
using StoreSync.Testing.Libp2p;

namespace StoreSync.Interop.Tests.Libp2p;

/// <summary>Our host against js-libp2p 3.x over TCP + Noise + Yamux, in both directions and with both key types; and the
/// same over /ws against @libp2p/websockets (js dials our /ws listener, we dial a js /ws listener).</summary>
public class JsLibp2pInteropTests
{
    const string Echo = "/storesync/test/echo/1.0.0";
    static readonly TimeSpan Step = TimeSpan.FromSeconds(30);

    static async Task<Libp2pHost> StartHostAsync(KeyType keyType, CancellationToken ct, string transport = "tcp")
    {
        var host = new Libp2pHost(IdentityKey.Generate(keyType), new HostOptions { Security = new NoiseSecurity() });
        host.SetStreamHandler(Echo, EchoAsync);
        await host.StartAsync([Multiaddr.Parse(transport == "ws" ? "/ip4/127.0.0.1/tcp/0/ws" : "/ip4/127.0.0.1/tcp/0")], ct);
        return host;
    }

    /// <summary>js's listen address of that transport (js always listens on /tcp; on /ws too when asked).</summary>
    static Multiaddr JsAddress(JsLibp2pPeer js, string transport) =>
        Multiaddr.Parse(js.Addresses.Single(a => a.Contains("/ws/", StringComparison.Ordinal) == (transport == "ws")));

    static async Task EchoAsync(Libp2pStream stream, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        for (int n; (n = await stream.ReadAsync(buffer, ct)) > 0;) await stream.WriteAsync(buffer.AsMemory(0, n), ct);
        await stream.CloseWriteAsync(ct);
    }

    static async Task<bool> EchoRoundTripAsync(Libp2pStream stream, int size, CancellationToken ct)
    {
        var data = RandomNumberGenerator.GetBytes(size);
        var writer = Task.Run(async () =>
        {
            for (int at = 0; at < size; at += 64 * 1024) await stream.WriteAsync(data.AsMemory(at, Math.Min(64 * 1024, size - at)), ct);
            await stream.CloseWriteAsync(ct);
        }, ct);
        var received = new byte[size];
        int total = 0;
        for (int n; (n = await stream.ReadAsync(received.AsMemory(Math.Min(total, size - 1)), ct)) > 0;)
        {
            total += n;
            if (total > size) return false;
        }
        await writer;
        return total == size && data.AsSpan().SequenceEqual(received);
    }

    [Theory]
    [InlineData(KeyType.Ed25519, "ed25519", "tcp")]
    [InlineData(KeyType.Secp256k1, "secp256k1", "tcp")]
    [InlineData(KeyType.Secp256k1, "ed25519", "tcp")]
    [InlineData(KeyType.Secp256k1, "ed25519", "ws")]
    [InlineData(KeyType.Ed25519, "secp256k1", "ws")]
    public async Task Js_dials_us_pings_identifies_and_echoes(KeyType ours, string theirs, string transport)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = timeout.Token;
        await using var host = await StartHostAsync(ours, ct, transport);
        await using var js = await JsLibp2pPeer.StartAsync(theirs, ct);
        var connected = new TaskCompletionSource<Connection>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.PeerConnected += c => { if (c.RemotePeer.ToString() == js.PeerId) connected.TrySetResult(c); };
        var address = host.ListenAddresses[0].ToString();

        var dial = await js.RunAsync("dial", new { addr = address }, Step, ct);
        Assert.Equal(host.PeerId.ToString(), dial["remotePeer"]!.GetValue<string>());
        Assert.Equal("/noise", dial["encryption"]!.GetValue<string>());
        Assert.Equal("/yamux/1.0.0", dial["multiplexer"]!.GetValue<string>());
        var connection = await connected.Task.WaitAsync(ct);
        Assert.True(connection.IsInbound);
        Assert.Equal(transport == "ws", connection.LocalAddress.ToString().EndsWith("/ws", StringComparison.Ordinal));

        var rtt = await js.RunAsync("ping", new { addr = address }, Step, ct);
        Assert.True(rtt["rtt"]!.GetValue<double>() >= 0);

        // js's view of our identify.
        var identify = await js.RunAsync("identify", new { peer = host.PeerId.ToString() }, Step, ct);
        var protocols = identify["protocols"]!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.Contains(IdentifyProtocol.ProtocolId, protocols);
        Assert.Contains(PingProtocol.ProtocolId, protocols);
        Assert.Contains(Echo, protocols);
        Assert.Equal("storesync/0.1", identify["agentVersion"]!.GetValue<string>());
        Assert.Equal("ipfs/0.1.0", identify["protocolVersion"]!.GetValue<string>());
        Assert.Contains(host.ListenAddresses[0].WithoutPeerId().ToString(),
            identify["listenAddrs"]!.AsArray().Select(a => a!.GetValue<string>().Split("/p2p/")[0]));

        // Our view of js's identify, requested by us on the inbound connection.
        var info = await connection.Identified.WaitAsync(ct);
        Assert.NotNull(info);
        Assert.Equal(js.PeerId, info.PeerId.ToString());
        Assert.StartsWith("js-libp2p/", info.AgentVersion);
        Assert.Contains(PingProtocol.ProtocolId, info.Protocols);
        Assert.Contains(Echo, info.Protocols);
        Assert.Contains(Multiaddr.Parse(js.Addresses[0]).WithoutPeerId(), info.ListenAddresses);

        // Our ping to js over the connection it opened.
        Assert.True(await host.PingAsync(connection.RemotePeer, ct) >= TimeSpan.Zero);

        var echo = await js.RunAsync("echo", new { addr = address, size = 16 << 20 }, TimeSpan.FromSeconds(90), ct);
        Assert.Equal(16 << 20, echo["bytes"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(KeyType.Ed25519, "ed25519", "tcp")]
    [InlineData(KeyType.Secp256k1, "secp256k1", "tcp")]
    [InlineData(KeyType.Ed25519, "secp256k1", "tcp")]
    [InlineData(KeyType.Secp256k1, "ed25519", "ws")]
    public async Task We_dial_js_ping_identify_and_echo(KeyType ours, string theirs, string transport)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = timeout.Token;
        await using var host = await StartHostAsync(ours, ct, transport);
        await using var js = await JsLibp2pPeer.StartAsync(theirs, ct, listenWebSocket: transport == "ws");
        var address = JsAddress(js, transport);

        var connection = await host.DialAsync(address, ct);
        Assert.Equal(js.PeerId, connection.RemotePeer.ToString());
        Assert.False(connection.IsInbound);
        Assert.Equal(address, connection.RemoteAddress);
        Assert.True(await connection.PingAsync(ct) >= TimeSpan.Zero);

        var info = await connection.Identified.WaitAsync(ct);
        Assert.NotNull(info);
        Assert.StartsWith("js-libp2p/", info.AgentVersion);
        Assert.Equal("ipfs/0.1.0", info.ProtocolVersion);
        Assert.Contains(IdentifyProtocol.ProtocolId, info.Protocols);
        Assert.Contains(Echo, info.Protocols);
        Assert.Contains(address.WithoutPeerId(), info.ListenAddresses);
        Assert.Equal(connection.LocalAddress, info.ObservedAddress?.WithoutPeerId()); // js appends our /p2p/ id

        var identify = await js.RunAsync("identify", new { peer = host.PeerId.ToString() }, Step, ct);
        Assert.Equal("storesync/0.1", identify["agentVersion"]!.GetValue<string>());

        var rtt = await js.RunAsync("ping", new { addr = host.ListenAddresses[0].ToString() }, Step, ct);
        Assert.True(rtt["rtt"]!.GetValue<double>() >= 0);
        Assert.Single(host.Connections); // js pinged over our connection instead of dialing a new one

        await using var stream = await host.NewStreamAsync(address, Echo, ct);
        Assert.Equal(js.PeerId, stream.RemotePeer.ToString());
        Assert.True(await EchoRoundTripAsync(stream, 16 << 20, ct));
    }

    [Fact]
    public async Task Js_dials_our_wss_with_a_certificate_it_trusts_and_pings()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = timeout.Token;
        using var certificate = new TestCertificate();
        var options = new HostOptions
        {
            Security = new NoiseSecurity(),
            WebSocket = new WebSocketOptions { Certificate = WebSocketCertificate.LoadPem(certificate.CertificatePath, certificate.KeyPath) },
        };
        await using var host = new Libp2pHost(IdentityKey.Generate(KeyType.Secp256k1), options);
        await host.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/wss")], ct);
        await using var js = await JsLibp2pPeer.StartAsync("ed25519", ct, trustCertificate: certificate.CertificatePath);
        var address = host.ListenAddresses.Single().ToString();
        Assert.EndsWith($"/wss/p2p/{host.PeerId}", address);

        var dial = await js.RunAsync("dial", new { addr = address }, Step, ct);
        Assert.Equal(host.PeerId.ToString(), dial["remotePeer"]!.GetValue<string>());
        Assert.Equal("/yamux/1.0.0", dial["multiplexer"]!.GetValue<string>());
        Assert.True((await js.RunAsync("ping", new { addr = address }, Step, ct))["rtt"]!.GetValue<double>() >= 0);
        var identify = await js.RunAsync("identify", new { peer = host.PeerId.ToString() }, Step, ct);
        Assert.Equal("storesync/0.1", identify["agentVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Thirty_two_concurrent_streams_each_way_on_one_connection()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var ct = timeout.Token;
        await using var host = await StartHostAsync(KeyType.Ed25519, ct);
        await using var js = await JsLibp2pPeer.StartAsync("ed25519", ct);
        var connection = await host.DialAsync(Multiaddr.Parse(js.Addresses[0]), ct);

        var ours = await Task.WhenAll(Enumerable.Range(0, 32).Select(async i =>
        {
            await using var stream = await connection.NewStreamAsync(Echo, ct);
            return await EchoRoundTripAsync(stream, 256 * 1024 + i, ct);
        }));
        Assert.All(ours, Assert.True);

        var theirs = await js.RunAsync("concurrent", new { addr = host.ListenAddresses[0].ToString(), streams = 32, size = 256 * 1024 },
            TimeSpan.FromSeconds(90), ct);
        Assert.Equal(32, theirs["streams"]!.GetValue<int>());
        Assert.Equal(1, theirs["connections"]!.GetValue<int>());
        Assert.Single(host.Connections);
    }

    [Fact]
    public async Task A_js_disconnect_is_reported_with_a_reason()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = timeout.Token;
        await using var host = await StartHostAsync(KeyType.Ed25519, ct);
        await using var js = await JsLibp2pPeer.StartAsync("ed25519", ct);
        var gone = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.PeerDisconnected += (c, reason) => gone.TrySetResult(reason);
        var connection = await host.DialAsync(Multiaddr.Parse(js.Addresses[0]), ct);
        await connection.Identified.WaitAsync(ct);
        await js.RunAsync("hangup", new { peer = host.PeerId.ToString() }, Step, ct);
        Assert.False(string.IsNullOrEmpty(await gone.Task.WaitAsync(ct)));
        Assert.Empty(host.Connections);
    }
}
