using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Testing;

namespace StoreSync.Libp2p.Tests.Host;

/// <summary>Hosts on 127.0.0.1 (or ::1) port 0 for tests, with the production security protocol unless told otherwise.</summary>
internal static class TestHosts
{
    public const string EchoProtocol = "/storesync/test/echo/1.0.0";

    /// <summary>The security every test host uses: the production one.</summary>
    public static ISecurityProtocol Security => new NoiseSecurity();

    /// <summary>Default options with the test security; adjust with <c>with { … }</c>.</summary>
    public static HostOptions Options => new() { Security = Security };

    public static async Task<Libp2pHost> StartAsync(HostOptions? options = null, KeyType keyType = KeyType.Ed25519,
        CollectingLoggerFactory? logs = null, string listen = "/ip4/127.0.0.1/tcp/0")
    {
        options ??= Options;
        var host = new Libp2pHost(IdentityKey.Generate(keyType), options, logs);
        host.SetStreamHandler(EchoProtocol, EchoAsync);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync([Multiaddr.Parse(listen)], timeout.Token);
        return host;
    }

    /// <summary>Copies everything read back to the writer until the peer half-closes, then half-closes.</summary>
    public static async Task EchoAsync(Libp2pStream stream, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int n = await stream.ReadAsync(buffer, ct);
            if (n == 0) break;
            await stream.WriteAsync(buffer.AsMemory(0, n), ct);
        }
        await stream.CloseWriteAsync(ct);
    }

    /// <summary>Writes <paramref name="data"/> and concurrently reads the echo until FIN; returns what came back.</summary>
    public static async Task<byte[]> EchoRoundTripAsync(Stream stream, byte[] data, Func<Task> closeWrite, CancellationToken ct)
    {
        var writer = Task.Run(async () =>
        {
            for (int at = 0; at < data.Length; at += 100_000)
                await stream.WriteAsync(data.AsMemory(at, Math.Min(100_000, data.Length - at)), ct);
            await closeWrite();
        }, ct);
        var received = new MemoryStream(data.Length);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int n = await stream.ReadAsync(buffer, ct);
            if (n == 0) break;
            received.Write(buffer, 0, n);
        }
        await writer;
        return received.ToArray();
    }
}
