using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Multistream;
using StoreSync.Libp2p.Transports;
using StoreSync.Libp2p.WebSocket;
using StoreSync.Libp2p.Yamux;

namespace StoreSync.Libp2p.Host;

/// <summary>Upgrades a TCP socket to a libp2p connection, in either direction: the transport's own layers (none for /tcp; TLS and
/// the HTTP upgrade for /ws and /wss) → multistream → security → multistream → yamux.</summary>
internal sealed class ConnectionUpgrader(IdentityKey identity, ISecurityProtocol security, YamuxOptions yamuxOptions, TimeSpan handshakeTimeout,
    WebSocketOptions webSocketOptions, ILoggerFactory loggerFactory)
{
    /// <summary>An upgraded socket. The yamux session is not started, so the host can register the connection before its first frame.</summary>
    public readonly record struct Upgraded(YamuxSession Session, SecuredConnection Security, Multiaddr RemoteAddress, Multiaddr LocalAddress);

    /// <summary>Runs the whole upgrade within the handshake timeout. Takes ownership of the socket: it is closed when the upgrade fails.</summary>
    /// <param name="kind">The listener's transport (inbound); a dial's comes from <paramref name="dialed"/>.</param>
    /// <param name="dialed">The address a dial connects to (its Host header and TLS name); null inbound.</param>
    /// <param name="expected">The peer id a dial asked for; the peer must prove it.</param>
    /// <param name="stopping">The host's stop: cancels the upgrade without turning it into a timeout.</param>
    /// <exception cref="TimeoutException">The handshake (TLS and HTTP upgrade included) did not complete within the timeout.</exception>
    public async Task<Upgraded> UpgradeAsync(Socket socket, TransportKind kind, TransportAddress? dialed, PeerId? expected, CancellationToken stopping)
    {
        bool inbound = dialed is null;
        var remoteAddress = TransportAddress.ToMultiaddr((IPEndPoint)socket.RemoteEndPoint!, kind);
        var localAddress = TransportAddress.ToMultiaddr((IPEndPoint)socket.LocalEndPoint!, kind);
        Stream raw = new NetworkStream(socket, ownsSocket: true);
        Stream secured = raw;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(handshakeTimeout);
        try
        {
            if (kind != TransportKind.Tcp)
            {
                raw = inbound
                    ? await WebSocketTransport.AcceptAsync(raw, kind == TransportKind.SecureWebSocket, webSocketOptions, timeout.Token).ConfigureAwait(false)
                    : await WebSocketTransport.ConnectAsync(raw, dialed!, webSocketOptions, timeout.Token).ConfigureAwait(false);
                secured = raw;
            }
            SecuredConnection connection;
            string[] securityProtocols = [security.ProtocolId];
            string[] muxers = [YamuxSession.ProtocolId];
            if (inbound)
            {
                await MultistreamSelect.HandleAsync(raw, securityProtocols, timeout.Token).ConfigureAwait(false);
                connection = await security.RespondAsync(raw, identity, timeout.Token).ConfigureAwait(false);
                secured = connection.Stream;
                await MultistreamSelect.HandleAsync(secured, muxers, timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await MultistreamSelect.SelectAsync(raw, securityProtocols, timeout.Token).ConfigureAwait(false);
                connection = await security.InitiateAsync(raw, identity, expected, timeout.Token).ConfigureAwait(false);
                secured = connection.Stream;
                if (expected is not null && connection.RemotePeer != expected)
                    throw new IOException($"peer proved id {connection.RemotePeer}, expected {expected}");
                await MultistreamSelect.SelectAsync(secured, muxers, timeout.Token).ConfigureAwait(false);
            }
            var session = new YamuxSession(secured, isClient: !inbound, yamuxOptions, loggerFactory.CreateLogger<YamuxSession>());
            return new Upgraded(session, connection, remoteAddress, localAddress);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            await secured.DisposeAsync().ConfigureAwait(false);
            await raw.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException($"handshake not completed within {handshakeTimeout.TotalSeconds:0.#} s");
        }
        catch
        {
            await secured.DisposeAsync().ConfigureAwait(false);
            await raw.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
