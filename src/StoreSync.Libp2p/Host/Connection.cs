using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Identify;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Multistream;
using StoreSync.Libp2p.Ping;
using StoreSync.Libp2p.Yamux;

namespace StoreSync.Libp2p.Host;

/// <summary>An upgraded connection to one peer (TCP or WebSocket + security + yamux): opens streams to it and runs handlers for its streams.</summary>
public sealed class Connection
{
    readonly Libp2pHost _host;
    readonly YamuxSession _session;
    readonly ILogger _logger;
    readonly CancellationTokenSource _lifetime = new();
    readonly TaskCompletionSource<IdentifyInfo?> _identified = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _openStreams, _inboundHandlers;
    long _lastActivity = Stopwatch.GetTimestamp();
    string? _closeReason;

    internal Connection(Libp2pHost host, YamuxSession session, SecuredConnection secured, Multiaddr remoteAddress, Multiaddr localAddress,
        bool isInbound, ILogger logger)
    {
        _host = host;
        _session = session;
        _logger = logger;
        RemotePeer = secured.RemotePeer;
        RemotePublicKey = secured.RemoteKey;
        RemoteAddress = remoteAddress.WithPeerId(secured.RemotePeer);
        LocalAddress = localAddress;
        IsInbound = isInbound;
    }

    /// <summary>The peer id the security handshake proved.</summary>
    public PeerId RemotePeer { get; }

    public PublicKey RemotePublicKey { get; }

    /// <summary>The peer's transport address (TCP, with /ws or /wss for a WebSocket connection) with its /p2p/ id.</summary>
    public Multiaddr RemoteAddress { get; }

    /// <summary>Our side's transport address.</summary>
    public Multiaddr LocalAddress { get; }

    /// <summary>True when the peer dialed us.</summary>
    public bool IsInbound { get; }

    public DateTimeOffset OpenedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>What the peer sent in identify; null until identify completed (or if it failed).</summary>
    public IdentifyInfo? RemoteIdentify { get; private set; }

    /// <summary>Completes when identify has finished: with the peer's info, or null if it failed or timed out.</summary>
    public Task<IdentifyInfo?> Identified => _identified.Task;

    /// <summary>Streams currently open on this connection through the host (both directions).</summary>
    public int OpenStreams => Volatile.Read(ref _openStreams);

    /// <summary>Handlers of the peer's streams running now (bounded by <see cref="HostOptions.MaxInboundStreamsPerConnection"/>).</summary>
    public int InboundHandlers => Volatile.Read(ref _inboundHandlers);

    public bool IsClosed => _session.IsClosed;

    /// <summary>The host's <see cref="Libp2pHost.Draining"/> token: fires when a graceful stop begins.</summary>
    public CancellationToken HostDraining => _host.Draining;

    /// <summary>Why the connection ended, once it has.</summary>
    public string? CloseReason => _closeReason ?? _session.CloseReason;

    /// <summary>Completes when the connection has ended.</summary>
    public Task Closed => _session.Completion;

    internal TimeSpan IdleFor => OpenStreams > 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(Volatile.Read(ref _lastActivity));

    /// <summary>Opens a stream and negotiates <paramref name="protocolId"/> on it.</summary>
    /// <exception cref="MultistreamException">The peer does not support the protocol.</exception>
    public Task<Libp2pStream> NewStreamAsync(string protocolId, CancellationToken ct) => NewStreamAsync([protocolId], ct);

    /// <summary>Opens a stream proposing each protocol in turn on it (multistream-select); <see cref="Libp2pStream.Protocol"/> tells which one the peer took.</summary>
    /// <exception cref="MultistreamException">The peer supports none of them.</exception>
    public async Task<Libp2pStream> NewStreamAsync(IReadOnlyList<string> protocolIds, CancellationToken ct)
    {
        var stream = await _session.OpenStreamAsync(ct).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _lifetime.Token);
            timeout.CancelAfter(_host.Options.StreamNegotiationTimeout);
            var selected = await MultistreamSelect.SelectAsync(stream, protocolIds, timeout.Token).ConfigureAwait(false);
            return new Libp2pStream(stream, this, selected);
        }
        catch
        {
            stream.Reset();
            throw;
        }
    }

    /// <summary>Round-trip time of one <c>/ipfs/ping/1.0.0</c> exchange on a new stream.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken ct)
    {
        await using var stream = await NewStreamAsync(PingProtocol.ProtocolId, ct).ConfigureAwait(false);
        var rtt = await PingProtocol.PingAsync(stream, ct).ConfigureAwait(false);
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
        return rtt;
    }

    /// <summary>Streams open in the yamux session (both directions, including ones not yet negotiated).</summary>
    public int ActiveStreams => _session.ActiveStreams;

    /// <summary>Sends GoAway and closes the connection; streams on it are reset.</summary>
    public Task CloseAsync() => CloseAsync("closed locally");

    /// <summary>Closes with a reason that <see cref="CloseReason"/> and the disconnect event report.</summary>
    public async Task CloseAsync(string reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        _lifetime.Cancel();
        await _session.GoAwayAsync(YamuxGoAwayCode.Normal, reason).ConfigureAwait(false);
    }

    internal void OnStreamOpened()
    {
        Interlocked.Increment(ref _openStreams);
        Volatile.Write(ref _lastActivity, Stopwatch.GetTimestamp());
    }

    internal void OnStreamClosed()
    {
        Interlocked.Decrement(ref _openStreams);
        Volatile.Write(ref _lastActivity, Stopwatch.GetTimestamp());
    }

    internal void SetIdentify(IdentifyInfo? info)
    {
        RemoteIdentify = info;
        _identified.TrySetResult(info);
    }

    /// <summary>Accepts the peer's streams until the session ends; each is negotiated and handed to its handler concurrently.</summary>
    internal async Task RunAsync()
    {
        try
        {
            while (!_session.IsClosed)
            {
                var stream = await _session.AcceptStreamAsync(_lifetime.Token).ConfigureAwait(false);
                if (_host.IsDraining)
                {
                    // Shutting down: requests already running are finished, new ones are refused so the peer retries elsewhere.
                    _logger.LogDebug("Resetting inbound stream from {Peer}: the host is draining", RemotePeer);
                    stream.Reset();
                    continue;
                }
                if (Interlocked.Increment(ref _inboundHandlers) > _host.Options.MaxInboundStreamsPerConnection)
                {
                    Interlocked.Decrement(ref _inboundHandlers);
                    _logger.LogInformation("Resetting inbound stream from {Peer}: {Max} inbound streams already handled", RemotePeer, _host.Options.MaxInboundStreamsPerConnection);
                    stream.Reset();
                    continue;
                }
                _ = HandleInboundAsync(stream);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { }
        finally
        {
            _lifetime.Cancel();
            _identified.TrySetResult(RemoteIdentify);
        }
    }

    async Task HandleInboundAsync(YamuxStream stream)
    {
        string? protocol = null;
        Libp2pStream? wrapped = null;
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token))
            {
                timeout.CancelAfter(_host.Options.StreamNegotiationTimeout);
                protocol = await MultistreamSelect.HandleAsync(stream, _host.Protocols, timeout.Token).ConfigureAwait(false);
            }
            var handler = _host.HandlerFor(protocol);
            if (handler is null) { stream.Reset(); return; } // removed between negotiation and now
            wrapped = new Libp2pStream(stream, this, protocol);
            await handler(wrapped, _lifetime.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MultistreamException or IOException or OperationCanceledException or InvalidDataException or EndOfStreamException)
        {
            _logger.LogDebug("Inbound stream {Protocol} from {Peer} ended: {Reason}", protocol ?? "(negotiating)", RemotePeer, e.Message);
            if (wrapped is not null) wrapped.Reset(); else stream.Reset();
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Handler for {Protocol} failed on a stream from {Peer}", protocol, RemotePeer);
            if (wrapped is not null) wrapped.Reset(); else stream.Reset();
        }
        finally
        {
            if (wrapped is not null) await wrapped.DisposeAsync().ConfigureAwait(false);
            Interlocked.Decrement(ref _inboundHandlers);
        }
    }

    public override string ToString() => $"{(IsInbound ? "inbound" : "outbound")} {RemoteAddress}";
}
