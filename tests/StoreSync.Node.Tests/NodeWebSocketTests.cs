using System.Text.Json;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Libp2p.WebSocket;
using StoreSync.Node.Hosting;
using StoreSync.Testing.Libp2p;
using StoreSync.Testing.Node;
using static StoreSync.Node.Tests.NodeTestPeers;

namespace StoreSync.Node.Tests;

/// <summary>nwaku's websocket flags on a real node process: /ws and /wss beside TCP, every address printed and in
/// /debug/v1/info with its /p2p/ id, and bad values refused before anything starts.</summary>
public sealed class NodeWebSocketTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-node-ws-").FullName;
    readonly TestCertificate _certificate = new();

    public void Dispose()
    {
        _certificate.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_node_serves_light_push_over_ws_or_wss_and_lists_every_address(bool secure)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        string[] args = secure
            ? ["--shard", "0", "--websocket-support", "--websocket-port", "0", "--websocket-secure-support=true",
               "--websocket-secure-cert-path", _certificate.CertificatePath, "--websocket-secure-key-path", _certificate.KeyPath]
            : ["--shard", "0", "--websocket-support=true", "--websocket-port", "0"];
        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Args = args });
        string kind = secure ? "wss" : "ws";
        Assert.Matches($@"^/ip4/127\.0\.0\.1/tcp/\d+/{kind}/p2p/{node.PeerId}$", node.WebSocketAddress);
        Assert.Contains($"storesync node listening on {node.Address}", node.Output);
        Assert.Contains($"storesync node listening on {node.WebSocketAddress}", node.Output);

        using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(20) };
        var info = JsonDocument.Parse(await http.GetStringAsync("/debug/v1/info", ct)).RootElement;
        Assert.Equal([node.Address, node.WebSocketAddress], info.GetProperty("listenAddresses").EnumerateArray().Select(a => a.GetString()));

        var options = new HostOptions
        {
            Security = new NoiseSecurity(),
            WebSocket = new WebSocketOptions { ServerCertificateValidation = (_, presented, _, _) => _certificate.Validate(presented) },
        };
        await using var client = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), options);
        var connection = await client.DialAsync(Multiaddr.Parse(node.WebSocketAddress), ct);
        Assert.EndsWith($"/{kind}/p2p/{node.PeerId}", connection.RemoteAddress.ToString());
        Assert.True(await connection.PingAsync(ct) >= TimeSpan.Zero);
        var push = new StoreSync.Waku.LightPush.LightPushClient(client);
        Assert.Equal(200u, (await push.PushAsync(Multiaddr.Parse(node.WebSocketAddress), Shard0, Message("over " + kind), ct)).StatusCode);
        var health = JsonDocument.Parse(await http.GetStringAsync("/health", ct)).RootElement;
        Assert.Equal(1, health.GetProperty("storedMessages").GetInt64());
    }

    [Fact]
    public async Task Bad_websocket_input_on_a_live_node_is_refused_and_the_node_keeps_serving()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = timeout.Token;
        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Args = ["--shard", "0", "--websocket-support", "--websocket-port", "0"] });
        var address = Multiaddr.Parse(node.WebSocketAddress);
        await using var client = Client();
        var push = new StoreSync.Waku.LightPush.LightPushClient(client);
        int pushed = 0;
        async Task StillServesAsync()
        {
            Assert.False(node.HasExited);
            Assert.Equal(200u, (await push.PushAsync(address, Shard0, Message($"good {pushed++}"), ct)).StatusCode);
        }
        await StillServesAsync();

        // An HTTP request that is not an upgrade, and a head over the 8 KiB bound: HTTP answers, then close.
        await using (var raw = await RawWebSocketPeer.ConnectAsync(address, ct))
        {
            await raw.SendAsync("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", ct);
            Assert.StartsWith("HTTP/1.1 426 ", await raw.ReadHeadAsync(ct));
            Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
        }
        await StillServesAsync();
        await using (var raw = await RawWebSocketPeer.ConnectAsync(address, ct))
        {
            await raw.SendAsync("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + new string('a', 16 * 1024) + "\r\n\r\n", ct);
            Assert.StartsWith("HTTP/1.1 431 ", await raw.ReadHeadAsync(ct));
            Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
        }
        await StillServesAsync();

        // After a good upgrade: a text frame (1003) and a reserved opcode (1002), each closing only that connection.
        foreach (var (frame, code) in new[] { (RawWebSocketPeer.Frame(0x81, "/multistream/1.0.0\n"u8), 1003), (RawWebSocketPeer.Frame(0x83, [1, 2, 3]), 1002) })
        {
            await using var raw = await RawWebSocketPeer.ConnectAsync(address, ct);
            await raw.UpgradeAsync(ct);
            await raw.SendAsync(frame, ct);
            Assert.Equal(code, await raw.ReadUntilCloseAsync(ct));
            Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
            await StillServesAsync();
        }
        await node.WaitForOutputAsync("a text message", ct); // the reason is logged
        using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(20) };
        Assert.Equal(pushed, JsonDocument.Parse(await http.GetStringAsync("/health", ct)).RootElement.GetProperty("storedMessages").GetInt64());
    }

    [Fact]
    public async Task Without_the_flag_the_node_listens_on_tcp_only()
    {
        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Args = ["--shard", "0"] });
        Assert.Equal("", node.WebSocketAddress);
        Assert.DoesNotContain("/ws", node.Output);
    }

    [Fact]
    public void Websocket_settings_default_to_nwakus_and_bad_values_are_named()
    {
        var defaults = new NodeOptions();
        Assert.Equal((false, 8000, false), (defaults.WebsocketSupport, defaults.WebsocketPort, defaults.WebsocketSecureSupport));
        Assert.Equal(["/ip4/0.0.0.0/tcp/60000"], NodeListenAddresses.For(defaults).Select(a => a.ToString()));
        Assert.Equal(["/ip4/0.0.0.0/tcp/60000", "/ip4/0.0.0.0/tcp/8000/ws"],
            NodeListenAddresses.For(new NodeOptions { WebsocketSupport = true }).Select(a => a.ToString()));
        Assert.Equal(["/ip4/0.0.0.0/tcp/60000", "/ip4/0.0.0.0/tcp/8443/wss"],
            NodeListenAddresses.For(new NodeOptions { WebsocketSupport = true, WebsocketPort = 8443, WebsocketSecureSupport = true }).Select(a => a.ToString()));

        string Errors(NodeOptions o) => string.Join("\n", o.Validate());
        Assert.Contains("WebsocketPort (--websocket-port) 70000 is not a port number", Errors(new NodeOptions { WebsocketSupport = true, WebsocketPort = 70000 }));
        Assert.Contains("is also the TCP port", Errors(new NodeOptions { WebsocketSupport = true, WebsocketPort = 60000 }));
        Assert.Contains("--websocket-secure-support) requires --websocket-support=true", Errors(new NodeOptions { WebsocketSecureSupport = true }));
        var noFiles = Errors(new NodeOptions { WebsocketSupport = true, WebsocketSecureSupport = true });
        Assert.Contains("WebsocketSecureCertPath (--websocket-secure-cert-path) is empty", noFiles);
        Assert.Contains("WebsocketSecureKeyPath (--websocket-secure-key-path) is empty", noFiles);
        Assert.Contains("/nowhere/key.pem' does not exist", Errors(new NodeOptions
        {
            WebsocketSupport = true, WebsocketSecureSupport = true, WebsocketSecureCertPath = _certificate.CertificatePath, WebsocketSecureKeyPath = "/nowhere/key.pem",
        }));
        Assert.Empty(new NodeOptions
        {
            WebsocketSupport = true, WebsocketSecureSupport = true, WebsocketSecureCertPath = _certificate.CertificatePath, WebsocketSecureKeyPath = _certificate.KeyPath,
        }.Validate());
    }

    [Fact]
    public async Task Bad_websocket_values_are_refused_before_anything_starts()
    {
        var data = Path.Combine(_dir, "d");
        var result = await StoresyncProcess.RunAsync(null, "node", "--data-dir", data, "--websocket-port", "70000", "--websocket-secure-support");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--websocket-port) 70000 is not a port number", result.Stderr);
        Assert.Contains("requires --websocket-support=true", result.Stderr);

        var notABool = await StoresyncProcess.RunAsync(null, "node", "--data-dir", data, "--websocket-support=maybe");
        Assert.Equal(2, notABool.ExitCode);
        Assert.Contains("maybe", notABool.Stderr);

        // Files that exist but hold no certificate: the loader's reason, naming the flags, exit 1.
        var notPem = Path.Combine(_dir, "not.pem");
        File.WriteAllText(notPem, "not a certificate");
        var bad = await StoresyncProcess.RunAsync(null, "node", "--data-dir", data, "--websocket-support", "--websocket-secure-support",
            "--websocket-secure-cert-path", notPem, "--websocket-secure-key-path", _certificate.KeyPath);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--websocket-secure-cert-path", bad.Stderr);
        Assert.Contains("cannot load the TLS certificate", bad.Stderr);
        Assert.False(Directory.Exists(data)); // refused before the data folder or the key was created
    }
}
