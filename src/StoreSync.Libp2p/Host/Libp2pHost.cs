using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Multistream;
using StoreSync.Libp2p.Yamux;

namespace StoreSync.Libp2p.Host;

/// <summary>A libp2p host over TCP: listens and dials, upgrades connections (multistream → security → multistream → yamux), and routes streams to handlers by protocol id.</summary>
/// <remarks>
/// Every step a peer controls is bounded: the whole upgrade by <see cref="HostOptions.HandshakeTimeout"/>, each stream's
/// negotiation by <see cref="HostOptions.StreamNegotiationTimeout"/>, connections by <see cref="HostOptions.MaxConnections"/>,
/// streams by the yamux limits; idle connections are closed. A failing connection is closed with a logged reason and
/// never affects others.
/// </remarks>
public sealed class Libp2pHost : IAsyncDisposable
{
    readonly ILogger _logger;
    readonly ILoggerFactory _loggerFactory;
    readonly ConcurrentDictionary<string, Func<Libp2pStream, CancellationToken, Task>> _handlers = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<Connection, byte> _connections = new();
    readonly ConcurrentDictionary<string, Task<Connection>> _pendingDials = new(StringComparer.Ordinal);
    readonly List<(TcpListener Listener, Task Loop)> _listeners = [];
    readonly List<Multiaddr> _listenAddresses = [];
    readonly CancellationTokenSource _stopping = new();
    Task? _idleSweep;
    int _pendingInbound;

    public Libp2pHost(IdentityKey identity, HostOptions options, ILoggerFactory? loggerFactory = null)
    {
        Identity = identity;
        Options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<Libp2pHost>();
    }

    public IdentityKey Identity { get; }
    public PeerId PeerId => Identity.PeerId;
    public HostOptions Options { get; }

    /// <summary>The bound addresses (port 0 resolved), each ending in /p2p/&lt;our peer id&gt;.</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses { get { lock (_listenAddresses) return [.. _listenAddresses]; } }

    public IReadOnlyCollection<string> Protocols => [.. _handlers.Keys.Order(StringComparer.Ordinal)];

    public IReadOnlyCollection<Connection> Connections => [.. _connections.Keys];

    public event Action<Connection>? PeerConnected;
    public event Action<Connection, string>? PeerDisconnected;

    public void SetStreamHandler(string protocolId, Func<Libp2pStream, CancellationToken, Task> handler) => _handlers[protocolId] = handler;

    public void RemoveStreamHandler(string protocolId) => _handlers.TryRemove(protocolId, out _);

    public Task StartAsync(IEnumerable<Multiaddr> listenAddresses, CancellationToken ct)
    {
        foreach (var address in listenAddresses)
        {
            var (host, port, _) = address.ToTcpDialTarget();
            if (!IPAddress.TryParse(host, out var ip)) throw new ArgumentException($"listen address {address} must be an IP address, not a name");
            var listener = new TcpListener(ip, port);
            listener.Start(backlog: 128);
            var bound = Multiaddr.FromEndPoint((IPEndPoint)listener.LocalEndpoint).WithPeerId(PeerId);
            lock (_listenAddresses) _listenAddresses.Add(bound);
            _listeners.Add((listener, Task.Run(() => AcceptLoopAsync(listener), CancellationToken.None)));
            _logger.LogInformation("Listening on {Address}", bound);
        }
        _idleSweep ??= Task.Run(IdleSweepAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    async Task AcceptLoopAsync(TcpListener listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await listener.AcceptSocketAsync(_stopping.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            if (_connections.Count + Volatile.Read(ref _pendingInbound) >= Options.MaxConnections)
            {
                _logger.LogInformation("Refusing inbound connection from {Remote}: {Max} connections open", SafeRemote(socket), Options.MaxConnections);
                socket.Dispose();
                continue;
            }
            Interlocked.Increment(ref _pendingInbound);
            _ = Task.Run(async () =>
            {
                try { await UpgradeAsync(socket, inbound: true, expected: null, _stopping.Token).ConfigureAwait(false); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _logger.LogInformation("Inbound connection failed during upgrade: {Reason}", e.Message);
                }
                finally { Interlocked.Decrement(ref _pendingInbound); }
            });
        }
    }

    static string SafeRemote(Socket socket)
    {
        try { return socket.RemoteEndPoint?.ToString() ?? "?"; }
        catch (ObjectDisposedException) { return "?"; }
    }

    /// <summary>Connects to <paramref name="address"/> and upgrades it, reusing an open connection to its peer id; concurrent dials to one peer share one attempt.</summary>
    public Task<Connection> DialAsync(Multiaddr address, CancellationToken ct)
    {
        var expected = address.PeerId;
        if (expected is not null && FindConnection(expected) is { } existing) return Task.FromResult(existing);
        var key = expected?.ToString() ?? address.ToString();
        var attempt = _pendingDials.GetOrAdd(key, _ => DialNewAsync(address, ct));
        _ = attempt.ContinueWith(_ => _pendingDials.TryRemove(new KeyValuePair<string, Task<Connection>>(key, attempt)),
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        return attempt;
    }

    async Task<Connection> DialNewAsync(Multiaddr address, CancellationToken ct)
    {
        var expected = address.PeerId;
        if (_connections.Count >= Options.MaxConnections) throw new IOException($"{Options.MaxConnections} connections already open");
        var (host, port, family) = address.ToTcpDialTarget();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping.Token);
        timeout.CancelAfter(Options.HandshakeTimeout);
        var socket = family == AddressFamily.Unspecified
            ? new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true }
            : new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"dialing {address} timed out after {Options.HandshakeTimeout.TotalSeconds:0} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return await UpgradeAsync(socket, inbound: false, expected, ct).ConfigureAwait(false);
    }

    public Connection? FindConnection(PeerId peer) => _connections.Keys.FirstOrDefault(c => c.RemotePeer == peer && !c.IsClosed);

    public async Task<Libp2pStream> NewStreamAsync(Multiaddr address, string protocolId, CancellationToken ct)
    {
        var connection = await DialAsync(address, ct).ConfigureAwait(false);
        return await connection.NewStreamAsync(protocolId, ct).ConfigureAwait(false);
    }

    public Task<Libp2pStream> NewStreamAsync(PeerId peer, string protocolId, CancellationToken ct) =>
        (FindConnection(peer) ?? throw new IOException($"no connection to {peer}")).NewStreamAsync(protocolId, ct);

    async Task<Connection> UpgradeAsync(Socket socket, bool inbound, PeerId? expected, CancellationToken ct)
    {
        socket.NoDelay = true;
        socket.SendBufferSize = socket.ReceiveBufferSize = 1 << 20;
        var local = Multiaddr.FromEndPoint((IPEndPoint)socket.LocalEndPoint!);
        var remote = Multiaddr.FromEndPoint((IPEndPoint)socket.RemoteEndPoint!);
        var raw = new NetworkStream(socket, ownsSocket: true);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping.Token);
        timeout.CancelAfter(Options.HandshakeTimeout);
        SecuredConnection secured;
        try
        {
            if (inbound)
            {
                await MultistreamSelect.HandleAsync(raw, [Options.Security.ProtocolId], timeout.Token).ConfigureAwait(false);
                secured = await Options.Security.RespondAsync(raw, Identity, timeout.Token).ConfigureAwait(false);
                await MultistreamSelect.HandleAsync(secured.Stream, [YamuxSession.ProtocolId], timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await MultistreamSelect.SelectAsync(raw, [Options.Security.ProtocolId], timeout.Token).ConfigureAwait(false);
                secured = await Options.Security.InitiateAsync(raw, Identity, expected, timeout.Token).ConfigureAwait(false);
                if (expected is not null && secured.RemotePeer != expected)
                    throw new IOException($"peer proved {secured.RemotePeer}, expected {expected}");
                await MultistreamSelect.SelectAsync(secured.Stream, [YamuxSession.ProtocolId], timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await raw.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException($"connection {(inbound ? "from" : "to")} {remote} not upgraded within {Options.HandshakeTimeout.TotalSeconds:0} s");
        }
        catch
        {
            await raw.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var session = new YamuxSession(secured.Stream, isClient: !inbound, Options.Yamux with { MaxStreams = Options.MaxStreamsPerConnection },
            _loggerFactory.CreateLogger<YamuxSession>());
        var connection = new Connection(this, session, secured.RemoteKey, remote, local, inbound);
        _connections[connection] = 0;
        session.Start();
        _ = Task.Run(() => ServeStreamsAsync(connection), CancellationToken.None);
        _ = session.Completion.ContinueWith(completed =>
        {
            _connections.TryRemove(connection, out _);
            _logger.LogInformation("Disconnected from {Connection}: {Reason}", connection, session.CloseReason);
            PeerDisconnected?.Invoke(connection, session.CloseReason ?? "closed");
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        _logger.LogInformation("Connected to {Connection}", connection);
        PeerConnected?.Invoke(connection);
        return connection;
    }

    async Task ServeStreamsAsync(Connection connection)
    {
        while (!connection.IsClosed)
        {
            YamuxStream stream;
            try { stream = await connection.Session.AcceptStreamAsync(_stopping.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { return; }
            connection.Touch();
            _ = Task.Run(() => ServeStreamAsync(connection, stream), CancellationToken.None);
        }
    }

    async Task ServeStreamAsync(Connection connection, YamuxStream stream)
    {
        string protocol;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(Options.StreamNegotiationTimeout);
            protocol = await MultistreamSelect.HandleAsync(stream, [.. _handlers.Keys], timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            _logger.LogDebug("Stream {Id} from {Peer} not negotiated: {Reason}", stream.Id, connection.RemotePeer, e.Message);
            stream.Reset();
            return;
        }
        if (!_handlers.TryGetValue(protocol, out var handler)) { stream.Reset(); return; }
        var wrapped = new Libp2pStream(stream, protocol, connection);
        try
        {
            await handler(wrapped, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogInformation("Handler for {Protocol} failed on a stream from {Peer}: {Reason}", protocol, connection.RemotePeer, e.Message);
            stream.Reset();
        }
        finally
        {
            await wrapped.DisposeAsync().ConfigureAwait(false);
            connection.Touch();
        }
    }

    async Task IdleSweepAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(Options.IdleTimeout.TotalSeconds / 4, 0.05, 5)));
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
                foreach (var c in _connections.Keys)
                    if (c.Idle > Options.IdleTimeout)
                        _ = c.CloseAsync($"idle for {Options.IdleTimeout.TotalSeconds:0} s");
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        foreach (var (listener, _) in _listeners) listener.Stop();
        await Task.WhenAll(_connections.Keys.Select(c => c.CloseAsync("host stopping"))).ConfigureAwait(false);
        foreach (var (_, loop) in _listeners) await loop.ConfigureAwait(false);
        if (_idleSweep is not null) await _idleSweep.ConfigureAwait(false);
    }
}
