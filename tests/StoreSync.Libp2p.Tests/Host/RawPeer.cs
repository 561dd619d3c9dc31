using System.Net.Sockets;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Multistream;
using StoreSync.Libp2p.Yamux;

namespace StoreSync.Libp2p.Tests.Host;

/// <summary>A hand-driven peer: a raw TCP socket, optionally taken through security and muxer negotiation, then fed arbitrary bytes.</summary>
internal sealed class RawPeer : IAsyncDisposable
{
    readonly Socket _socket;

    RawPeer(Socket socket, Stream stream)
    {
        _socket = socket;
        Stream = stream;
    }

    /// <summary>The raw socket stream, or the secured stream after <see cref="UpgradeAsync"/>.</summary>
    public Stream Stream { get; private set; }

    public static async Task<RawPeer> ConnectAsync(Multiaddr address, CancellationToken ct)
    {
        var (host, port, family) = address.ToTcpDialTarget();
        var socket = new Socket(family == AddressFamily.Unspecified ? AddressFamily.InterNetwork : family, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(host, port, ct);
        return new RawPeer(socket, new NetworkStream(socket, ownsSocket: false));
    }

    /// <summary>Negotiates security and yamux exactly as a dialer would; what follows on <see cref="Stream"/> is raw yamux.</summary>
    public async Task UpgradeAsync(ISecurityProtocol security, CancellationToken ct)
    {
        await MultistreamSelect.SelectAsync(Stream, [security.ProtocolId], ct);
        var secured = await security.InitiateAsync(Stream, IdentityKey.Generate(KeyType.Ed25519), null, ct);
        await MultistreamSelect.SelectAsync(secured.Stream, [YamuxSession.ProtocolId], ct);
        Stream = secured.Stream;
    }

    /// <summary>Whether the remote closes the connection within <paramref name="within"/>.</summary>
    public async Task<bool> WaitClosedAsync(TimeSpan within)
    {
        using var bound = new CancellationTokenSource(within);
        return await WaitClosedAsync(bound.Token);
    }

    /// <summary>Reads and discards until the host closes the connection; false if it is still open when <paramref name="ct"/> fires.</summary>
    public async Task<bool> WaitClosedAsync(CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            for (int i = 0; i < 1_000_000; i++)
            {
                if (await Stream.ReadAsync(buffer, ct) == 0) return true;
            }
            return false;
        }
        catch (OperationCanceledException) { return false; }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { return true; }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
