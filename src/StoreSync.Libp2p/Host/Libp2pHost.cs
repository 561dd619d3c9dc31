using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Libp2p.Identify;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Multistream;
using StoreSync.Libp2p.Ping;
using StoreSync.Libp2p.Transports;

namespace StoreSync.Libp2p.Host;

/// <summary>A libp2p host over TCP and WebSocket (/ws, /wss): listens and dials, keeps the connection set and the protocol handler table, dispatches
/// inbound streams to the handlers and enforces the connection manager's limits.</summary>
/// <remarks>The upgrade of a socket is <see cref="ConnectionUpgrader"/>'s, identify is <see cref="IdentifyService"/>'s; ping is a handler.</remarks>
public sealed class Libp2pHost : IAsyncDisposable
{
    readonly IdentityKey _identity;
    readonly ConnectionUpgrader _upgrader;
    readonly IdentifyService _identify;
    readonly ILoggerFactory _loggerFactory;
    readonly ILogger _logger;
    readonly ConcurrentDictionary<string, Func<Libp2pStream, CancellationToken, Task>> _handlers = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<Connection, byte> _connections = new();
    readonly ConcurrentDictionary<PeerId, Multiaddr[]> _addressBook = new();
    readonly ConcurrentDictionary<string, Task<Connection>> _pendingDials = new(StringComparer.Ordinal);
    readonly CancellationTokenSource _stopping = new();
    [SuppressMessage("Usage", "CA2213", Justification = "handlers may still read its token after disposal; it holds no timer")]
    readonly CancellationTokenSource _drainStarted = new();
    readonly List<Socket> _listeners = [];
    readonly List<Task> _loops = [];
    volatile string[] _protocols = [];
    IReadOnlyList<Multiaddr> _listenAddresses = [];
    int _pendingHandshakes, _connectionCount, _disposed, _draining;
    bool _sweeping;

    public Libp2pHost(IdentityKey identity, HostOptions options, ILoggerFactory? loggerFactory = null)
    {
        _identity = identity;
        Options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<Libp2pHost>();
        _upgrader = new ConnectionUpgrader(identity, options.Security, options.Yamux with { MaxStreams = options.MaxStreamsPerConnection },
            options.HandshakeTimeout, options.WebSocket, _loggerFactory);
        _identify = new IdentifyService(this, _logger);
        SetStreamHandler(IdentifyProtocol.ProtocolId, _identify.RespondAsync);
        SetStreamHandler(PingProtocol.ProtocolId, PingProtocol.HandleAsync);
    }

    public HostOptions Options { get; }

    public PeerId PeerId => _identity.PeerId;

    public IdentityKey Identity => _identity;

    /// <summary>The bound addresses (port 0 resolved, wildcards expanded to interface addresses), each ending in our /p2p/ id.</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses => _listenAddresses;

    /// <summary>Protocols we answer on inbound streams (what identify announces).</summary>
    public IReadOnlyList<string> Protocols => _protocols;

    public IReadOnlyCollection<Connection> Connections => _connections.Keys.Where(c => !c.IsClosed).ToList();

    /// <summary>Raised once a connection is upgraded (before identify; await <see cref="Connection.Identified"/> for that).</summary>
    public event Action<Connection>? PeerConnected;

    /// <summary>Raised once per connection when it ends, with the reason.</summary>
    public event Action<Connection, string>? PeerDisconnected;

    /// <summary>Raised when identify of a connection succeeded.</summary>
    public event Action<Connection, IdentifyInfo>? PeerIdentified;

    /// <summary>Binds every address (/ip4 or /ip6 + /tcp, optionally + /ws or /wss; port 0 allowed) and starts accepting connections.</summary>
    /// <exception cref="UnsupportedTransportException">An address of another shape, or /wss without <see cref="WebSocket.WebSocketOptions.Certificate"/>.</exception>
    public Task StartAsync(IEnumerable<Multiaddr> listenAddresses, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ct.ThrowIfCancellationRequested();
        var bound = new List<Multiaddr>();
        foreach (var address in listenAddresses)
        {
            var target = TransportAddress.Parse(address);
            if (target.Kind == TransportKind.SecureWebSocket && Options.WebSocket.Certificate is null)
                throw new UnsupportedTransportException($"cannot listen on {address}: /wss needs a TLS certificate (HostOptions.WebSocket.Certificate)");
            var socket = TcpTransport.Listen(target, Options.ListenBacklog, Options.SocketBufferSize);
            lock (_listeners) _listeners.Add(socket);
            var endPoint = (IPEndPoint)socket.LocalEndPoint!;
            var ips = endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any)
                ? TcpTransport.ExpandWildcard(endPoint.Address)
                : [endPoint.Address];
            foreach (var ip in ips) bound.Add(TransportAddress.ToMultiaddr(new IPEndPoint(ip, endPoint.Port), target.Kind).WithPeerId(PeerId));
            _logger.LogInformation("Listening on {Address}", TransportAddress.ToMultiaddr(endPoint, target.Kind));
            lock (_loops) _loops.Add(Task.Run(() => AcceptLoopAsync(socket, target.Kind), CancellationToken.None)); // lives until disposal, not the start token
        }
        _listenAddresses = [.. _listenAddresses, .. bound];
        lock (_loops)
        {
            if (!_sweeping && Options.IdleTimeout != Timeout.InfiniteTimeSpan)
            {
                _sweeping = true;
                _loops.Add(Task.Run(IdleSweepLoopAsync, CancellationToken.None));
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>Registers (or replaces) the handler of inbound streams negotiating <paramref name="protocolId"/>.
    /// The handler owns the stream until it returns; the host then half-closes and releases it. Its token fires when the connection ends.</summary>
    public void SetStreamHandler(string protocolId, Func<Libp2pStream, CancellationToken, Task> handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocolId);
        _handlers[protocolId] = handler;
        _protocols = [.. _handlers.Keys.Order(StringComparer.Ordinal)];
    }

    public void RemoveStreamHandler(string protocolId)
    {
        _handlers.TryRemove(protocolId, out _);
        _protocols = [.. _handlers.Keys.Order(StringComparer.Ordinal)];
    }

    internal Func<Libp2pStream, CancellationToken, Task>? HandlerFor(string protocolId) => _handlers.GetValueOrDefault(protocolId);

    /// <summary>True once <see cref="DrainAsync"/> has begun: no new connections or inbound streams are taken.</summary>
    public bool IsDraining => Volatile.Read(ref _draining) != 0;

    /// <summary>Fires when <see cref="DrainAsync"/> begins: a handler still waiting for its peer's first byte (an idle stream,
    /// not a request in flight) should give up then, so the drain waits only for real work.</summary>
    public CancellationToken Draining => _drainStarted.Token;

    /// <summary>Handlers of inbound streams running now, over every connection.</summary>
    public int RunningHandlers => _connections.Keys.Sum(c => c.InboundHandlers);

    /// <summary>The first step of a graceful stop: closes the listeners and refuses (resets) new inbound streams, so no new
    /// request starts, then waits up to <paramref name="timeout"/> for the handlers already running to finish their
    /// response. Connections stay open meanwhile so those responses can be delivered; <see cref="DisposeAsync"/> closes them.</summary>
    /// <returns>The handlers still running when the wait ended: 0 means every request in flight was answered.</returns>
    public async Task<int> DrainAsync(TimeSpan timeout, CancellationToken ct)
    {
        Interlocked.Exchange(ref _draining, 1);
        lock (_listeners) foreach (var l in _listeners) l.Dispose();
        _drainStarted.Cancel();
        var deadline = DateTime.UtcNow + timeout;
        // Polling is enough here: it runs once per process lifetime, and handler counts live per connection.
        while (RunningHandlers > 0 && DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
        {
            try { await Task.Delay(DrainPollInterval, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
        return RunningHandlers;
    }

    static readonly TimeSpan DrainPollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Remembers where a peer can be dialed (used by <see cref="NewStreamAsync(PeerId, string, CancellationToken)"/>).</summary>
    public void AddAddress(PeerId peer, Multiaddr address) =>
        _addressBook.AddOrUpdate(peer, [address.WithoutPeerId()], (_, known) => known.Contains(address.WithoutPeerId()) ? known : [.. known.Take(15), address.WithoutPeerId()]);

    /// <summary>Known dialable addresses of a peer (from dials and identify).</summary>
    public IReadOnlyList<Multiaddr> AddressesOf(PeerId peer) => _addressBook.GetValueOrDefault(peer) ?? [];

    /// <summary>An open connection to the peer, or null.</summary>
    public Connection? FindConnection(PeerId peer) => _connections.Keys.FirstOrDefault(c => c.RemotePeer == peer && !c.IsClosed);

    /// <summary>Opens a stream for <paramref name="protocolId"/>, reusing a connection to the address's /p2p/ peer or dialing.</summary>
    public async Task<Libp2pStream> NewStreamAsync(Multiaddr address, string protocolId, CancellationToken ct)
    {
        var peer = address.PeerId;
        var connection = (peer is null ? null : FindConnection(peer)) ?? await DialAsync(address, ct).ConfigureAwait(false);
        return await connection.NewStreamAsync(protocolId, ct).ConfigureAwait(false);
    }

    /// <summary>Opens a stream on an existing connection to the peer, or dials one of its known addresses.</summary>
    public Task<Libp2pStream> NewStreamAsync(PeerId peer, string protocolId, CancellationToken ct) => NewStreamAsync(peer, [protocolId], ct);

    /// <summary>As <see cref="NewStreamAsync(PeerId, string, CancellationToken)"/>, proposing each protocol in turn (the first the peer supports wins).</summary>
    public async Task<Libp2pStream> NewStreamAsync(PeerId peer, IReadOnlyList<string> protocolIds, CancellationToken ct)
    {
        var connection = FindConnection(peer);
        if (connection is null)
        {
            var addresses = AddressesOf(peer);
            if (addresses.Count == 0) throw new IOException($"no connection to {peer} and no known address");
            Exception? last = null;
            foreach (var address in addresses)
            {
                try
                {
                    connection = await DialAsync(address.WithPeerId(peer), ct).ConfigureAwait(false);
                    break;
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    last = e;
                }
            }
            if (connection is null) throw new IOException($"could not dial {peer}: {last?.Message}", last);
        }
        return await connection.NewStreamAsync(protocolIds, ct).ConfigureAwait(false);
    }

    /// <summary>Round-trip time of <c>/ipfs/ping/1.0.0</c> to a connected or known peer.</summary>
    public async Task<TimeSpan> PingAsync(PeerId peer, CancellationToken ct)
    {
        await using var stream = await NewStreamAsync(peer, PingProtocol.ProtocolId, ct).ConfigureAwait(false);
        var rtt = await PingProtocol.PingAsync(stream, ct).ConfigureAwait(false);
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
        return rtt;
    }

    /// <summary>Connects to the address, reusing an open connection to its /p2p/ peer; concurrent dials of one peer (or of one
    /// address without /p2p/) share one attempt. With a /p2p/ id the peer must prove it.</summary>
    public Task<Connection> DialAsync(Multiaddr address, CancellationToken ct) => DialAsync(address, forceNew: false, ct);

    /// <param name="forceNew">Always open a new connection (e.g. to measure handshakes), never reuse or share one.</param>
    public Task<Connection> DialAsync(Multiaddr address, bool forceNew, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var peer = address.PeerId;
        if (forceNew) return DialCoreAsync(address).WaitAsync(ct);
        if (peer is not null && FindConnection(peer) is { } existing) return Task.FromResult(existing);
        var key = peer?.ToString() ?? address.ToString();
        var dial = _pendingDials.GetOrAdd(key, _ => DialCoreAsync(address));
        _ = dial.ContinueWith(_ => _pendingDials.TryRemove(new KeyValuePair<string, Task<Connection>>(key, dial)), TaskScheduler.Default);
        return dial.WaitAsync(ct);
    }

    async Task<Connection> DialCoreAsync(Multiaddr address)
    {
        await Task.Yield(); // run outside GetOrAdd
        if (Interlocked.Increment(ref _connectionCount) > Options.MaxConnections)
        {
            Interlocked.Decrement(ref _connectionCount);
            throw new IOException($"connection limit of {Options.MaxConnections} reached; not dialing {address}");
        }
        bool counted = true;
        try
        {
            var target = TransportAddress.Parse(address);
            Socket socket;
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                connect.CancelAfter(Options.DialTimeout);
                try { socket = await TcpTransport.DialAsync(target, Options.SocketBufferSize, connect.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (!_stopping.IsCancellationRequested) { throw new TimeoutException($"TCP connect to {address} timed out"); }
            }
            var connection = await UpgradeAsync(socket, target.Kind, target, address.PeerId).ConfigureAwait(false);
            counted = false; // now owned by the connection
            AddAddress(connection.RemotePeer, address);
            return connection;
        }
        finally
        {
            if (counted) Interlocked.Decrement(ref _connectionCount);
        }
    }

    async Task AcceptLoopAsync(Socket listener, TransportKind kind)
    {
        while (!_stopping.IsCancellationRequested && !IsDraining)
        {
            Socket socket;
            try { socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                // Transient accept errors (e.g. a connection reset before we accepted it) must not stop the listener.
                _logger.LogDebug("Accept failed: {Error}", e.SocketErrorCode);
                continue;
            }
            var remote = socket.RemoteEndPoint?.ToString() ?? "?";
            if (Interlocked.Increment(ref _pendingHandshakes) > Options.MaxPendingHandshakes)
            {
                Interlocked.Decrement(ref _pendingHandshakes);
                _logger.LogWarning("Refusing connection from {Remote}: {Max} handshakes already pending", remote, Options.MaxPendingHandshakes);
                socket.Dispose();
                continue;
            }
            if (Interlocked.Increment(ref _connectionCount) > Options.MaxConnections)
            {
                Interlocked.Decrement(ref _connectionCount);
                Interlocked.Decrement(ref _pendingHandshakes);
                _logger.LogWarning("Refusing connection from {Remote}: connection limit of {Max} reached", remote, Options.MaxConnections);
                socket.Dispose();
                continue;
            }
            _ = HandleInboundAsync(socket, kind, remote);
        }
    }

    async Task HandleInboundAsync(Socket socket, TransportKind kind, string remote)
    {
        bool counted = true;
        try
        {
            await UpgradeAsync(socket, kind, dialed: null, expected: null).ConfigureAwait(false);
            counted = false;
        }
        catch (Exception e)
        {
            _logger.LogInformation("Closed inbound connection from {Remote} during its handshake: {Reason}", remote, Describe(e));
        }
        finally
        {
            Interlocked.Decrement(ref _pendingHandshakes);
            if (counted) Interlocked.Decrement(ref _connectionCount);
        }
    }

    /// <summary>Upgrades the socket (<see cref="ConnectionUpgrader"/>), then registers and starts the connection. Takes ownership of the socket.</summary>
    async Task<Connection> UpgradeAsync(Socket socket, TransportKind kind, TransportAddress? dialed, PeerId? expected)
    {
        bool inbound = dialed is null;
        var (session, security, remoteAddress, localAddress) = await _upgrader.UpgradeAsync(socket, kind, dialed, expected, _stopping.Token).ConfigureAwait(false);
        var connection = new Connection(this, session, security, remoteAddress, localAddress, inbound, _loggerFactory.CreateLogger<Connection>());
        _connections[connection] = 0;
        session.Start();
        _logger.LogInformation("Connected {Direction} to {Peer} at {Address}", inbound ? "inbound" : "outbound", connection.RemotePeer, remoteAddress);
        _ = RunConnectionAsync(connection);
        return connection;
    }

    async Task RunConnectionAsync(Connection connection)
    {
        try
        {
            Raise(() => PeerConnected?.Invoke(connection));
            var streams = connection.RunAsync();
            _ = IdentifyAsync(connection);
            await streams.ConfigureAwait(false);
            await connection.Closed.ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            Interlocked.Decrement(ref _connectionCount);
            var reason = connection.CloseReason ?? "closed";
            _logger.LogInformation("Disconnected from {Peer} at {Address}: {Reason}", connection.RemotePeer, connection.RemoteAddress, reason);
            Raise(() => PeerDisconnected?.Invoke(connection, reason));
        }
    }

    async Task IdentifyAsync(Connection connection)
    {
        var info = await _identify.RequestAsync(connection, _stopping.Token).ConfigureAwait(false);
        if (info is not null) Raise(() => PeerIdentified?.Invoke(connection, info));
    }

    /// <summary>Closes connections that have had no open stream for <see cref="HostOptions.IdleTimeout"/>.</summary>
    async Task IdleSweepLoopAsync()
    {
        var interval = TimeSpan.FromTicks(Math.Clamp(Options.IdleTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(30).Ticks));
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                foreach (var connection in _connections.Keys)
                {
                    if (!connection.IsClosed && connection.IdleFor > Options.IdleTimeout)
                        _ = connection.CloseAsync($"idle for more than {Options.IdleTimeout.TotalSeconds:0.#} s");
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    void Raise(Action raise)
    {
        try { raise(); }
        catch (Exception e) { _logger.LogError(e, "A connection event handler threw"); }
    }

    static string Describe(Exception e) => e switch
    {
        TimeoutException => e.Message,
        MultistreamException => "multistream-select: " + e.Message,
        WebSocket.WebSocketHandshakeException => e.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    /// <summary>Stops listening and closes every connection (GoAway, then TCP close).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping.Cancel();
        lock (_listeners) foreach (var l in _listeners) l.Dispose();
        await Task.WhenAll(_connections.Keys.Select(c => c.CloseAsync("host stopped"))).ConfigureAwait(false);
        Task[] loops;
        lock (_loops) loops = [.. _loops];
        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _stopping.Dispose(); // _drainStarted stays: handlers may still read its token; it holds no timer
    }
}
