using System.Security.Cryptography;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;

namespace StoreSync.Libp2p.Tests.Noise;

/// <summary>Two hosts secured by Noise: multistream, then Noise, then yamux over the encrypted channel.</summary>
public sealed class NoiseSecurityHostTests : IAsyncDisposable
{
    private const string Echo = "/test/echo/1.0.0";
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly List<Libp2pHost> _hosts = [];

    private async Task<Libp2pHost> StartHostAsync(KeyType keyType)
    {
        var host = new Libp2pHost(IdentityKey.Generate(keyType), new HostOptions { Security = new NoiseSecurity() });
        host.SetStreamHandler(Echo, async (stream, ct) =>
        {
            await stream.CopyToAsync(stream, ct);
            await stream.CloseWriteAsync(ct);
        });
        await host.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], _timeout.Token);
        _hosts.Add(host);
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts) await host.DisposeAsync();
        _timeout.Dispose();
    }

    [Theory]
    [InlineData(KeyType.Ed25519, KeyType.Secp256k1)]
    [InlineData(KeyType.Secp256k1, KeyType.Ed25519)]
    public async Task Hosts_echo_4_MiB_over_noise_with_proven_peer_ids(KeyType serverType, KeyType clientType)
    {
        var server = await StartHostAsync(serverType);
        var client = await StartHostAsync(clientType);
        var stream = await client.NewStreamAsync(server.ListenAddresses[0], Echo, _timeout.Token);
        Assert.Equal(server.PeerId, stream.RemotePeer);

        var data = RandomNumberGenerator.GetBytes(4 << 20);
        var reading = Task.Run(async () =>
        {
            var received = new MemoryStream();
            await stream.CopyToAsync(received, _timeout.Token);
            return received.ToArray();
        });
        await stream.WriteAsync(data, _timeout.Token);
        await stream.CloseWriteAsync(_timeout.Token);
        var echoed = await reading;
        Assert.True(data.AsSpan().SequenceEqual(echoed), "echoed bytes differ");
    }

    [Fact]
    public async Task Dialing_a_wrong_peer_id_fails_in_the_noise_handshake()
    {
        var server = await StartHostAsync(KeyType.Ed25519);
        var client = await StartHostAsync(KeyType.Ed25519);
        var wrong = server.ListenAddresses[0].WithPeerId(IdentityKey.Generate(KeyType.Ed25519).PeerId);
        var e = await Assert.ThrowsAsync<NoiseHandshakeException>(() => client.DialAsync(wrong, _timeout.Token));
        Assert.Contains("expected", e.Message);
    }
}
