using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace StoreSync.Libp2p.Yamux;

/// <summary>A yamux session (hashicorp yamux spec, libp2p <c>/yamux/1.0.0</c>): many flow-controlled streams over one connection.</summary>
/// <remarks>
/// One read loop owns the transport's read side and dispatches frames; writers share the write side under a lock, each
/// frame written whole (header and payload in one write) so an encrypting transport seals it in as few messages as possible.
/// Any protocol violation ends the whole session with a GoAway and a logged reason; other sessions are unaffected.
/// </remarks>
public sealed class YamuxSession : IAsyncDisposable
{
    public const string ProtocolId = "/yamux/1.0.0";

    /// <summary>A frame that claims more than this is refused before reading it (a peer could otherwise make us allocate 4 GiB).</summary>
    const uint MaxPayload = 16 * 1024 * 1024;

    readonly Stream _transport;
    readonly bool _isClient;
    readonly ILogger _logger;
    // Neither is disposed: streams of the session may still write (and fail on the closed transport) or read the token after
    // the session ends; the semaphore never allocates its wait handle and the token source holds no timer.
    [SuppressMessage("Usage", "CA2213", Justification = "outlived by the session's streams; holds no unmanaged resource")]
    readonly SemaphoreSlim _writeLock = new(1, 1);
    readonly ConcurrentDictionary<uint, YamuxStream> _streams = new();
    readonly ConcurrentDictionary<uint, (TaskCompletionSource<TimeSpan> Done, long Started)> _pings = new();
    readonly Channel<YamuxStream> _accepted;
    [SuppressMessage("Usage", "CA2213", Justification = "outlived by the session's streams; holds no timer")]
    readonly CancellationTokenSource _closed = new();
    readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    uint _nextStreamId;
    int _nextPing;
    volatile bool _goAwayReceived;
    string? _closeReason, _goAwayReason;
    Task? _readLoop, _keepAlive;

    /// <param name="isClient">True for the dialer (odd stream ids), false for the listener (even ids).</param>
    public YamuxSession(Stream transport, bool isClient, YamuxOptions? options = null, ILogger? logger = null)
    {
        _transport = transport;
        _isClient = isClient;
        Options = options ?? new YamuxOptions();
        if (Options.ReceiveWindow < YamuxOptions.DefaultWindow) throw new ArgumentException("the receive window cannot be below the spec's 256 KiB");
        _logger = logger ?? NullLogger.Instance;
        _nextStreamId = isClient ? 1u : 2u;
        _accepted = Channel.CreateBounded<YamuxStream>(new BoundedChannelOptions(Options.AcceptBacklog) { FullMode = BoundedChannelFullMode.Wait });
    }

    public YamuxOptions Options { get; }

    public bool IsClient => _isClient;

    public int ActiveStreams => _streams.Count;

    /// <summary>Why the session ended, once it has.</summary>
    public string? CloseReason => _closeReason;

    /// <summary>Completes when the session has ended, whatever the reason.</summary>
    public Task Completion => _completion.Task;

    public bool IsClosed => _closed.IsCancellationRequested;

    public void Start()
    {
        _readLoop ??= Task.Run(ReadLoopAsync);
        if (Options.KeepAliveInterval > TimeSpan.Zero) _keepAlive ??= Task.Run(KeepAliveLoopAsync);
    }

    /// <summary>Opens a stream; data may be written at once (the SYN goes first), as js-yamux does.</summary>
    public async Task<YamuxStream> OpenStreamAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        if (_goAwayReceived) throw new IOException("the peer sent GoAway: no new streams on this session");
        if (_streams.Count >= Options.MaxStreams) throw new IOException($"session already has {Options.MaxStreams} streams");
        uint id = Interlocked.Add(ref _nextStreamId, 2) - 2;
        var stream = new YamuxStream(this, id, YamuxOptions.DefaultWindow);
        _streams[id] = stream;
        await WriteFrameAsync(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, id, ExtraWindow), default, ct).ConfigureAwait(false);
        return stream;
    }

    /// <summary>Waits for the next stream the peer opens; throws once the session has ended.</summary>
    public async Task<YamuxStream> AcceptStreamAsync(CancellationToken ct)
    {
        try { return await _accepted.Reader.ReadAsync(ct).ConfigureAwait(false); }
        catch (ChannelClosedException) { throw new IOException($"yamux session closed: {_closeReason}"); }
    }

    /// <summary>Round-trip time of a yamux ping.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken ct)
    {
        uint id = (uint)Interlocked.Increment(ref _nextPing);
        var done = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pings[id] = (done, Stopwatch.GetTimestamp());
        try
        {
            await WriteFrameAsync(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, id), default, ct).ConfigureAwait(false);
            return await done.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _pings.TryRemove(id, out _);
        }
    }

    /// <summary>Tells the peer no new streams will be accepted, then closes the session.</summary>
    public async Task GoAwayAsync(YamuxGoAwayCode code, string reason)
    {
        if (IsClosed) return;
        Interlocked.CompareExchange(ref _goAwayReason, reason, null);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await WriteFrameAsync(new YamuxFrameHeader(YamuxFrameType.GoAway, YamuxFlags.None, 0, (uint)code), default, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { }
        Close(reason);
    }

    /// <summary>What we grant beyond the spec's initial window, announced with our SYN or ACK.</summary>
    uint ExtraWindow => (uint)(Options.ReceiveWindow - YamuxOptions.DefaultWindow);

    async Task ReadLoopAsync()
    {
        var header = new byte[YamuxFrameHeader.Size];
        try
        {
            while (true)
            {
                int read = await ReadAtLeastAsync(header).ConfigureAwait(false);
                if (read == 0) { Close("the peer closed the connection"); return; }
                var frame = YamuxFrameHeader.Read(header);
                switch (frame.Type)
                {
                    case YamuxFrameType.Data: await OnDataAsync(frame).ConfigureAwait(false); break;
                    case YamuxFrameType.WindowUpdate: await OnWindowUpdateAsync(frame).ConfigureAwait(false); break;
                    case YamuxFrameType.Ping: await OnPingAsync(frame).ConfigureAwait(false); break;
                    case YamuxFrameType.GoAway: OnGoAway(frame); break;
                }
            }
        }
        catch (YamuxProtocolException e)
        {
            _logger.LogWarning("Closing yamux session: protocol violation by the peer: {Reason}", e.Message);
            await GoAwayAsync(YamuxGoAwayCode.ProtocolError, "protocol violation: " + e.Message).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            Close(IsClosed ? _closeReason ?? "closed" : "connection lost: " + e.Message);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Yamux read loop failed");
            Close("internal error: " + e.Message);
        }
    }

    /// <summary>Fills <paramref name="buffer"/>; 0 at a clean end of stream before the first byte; throws on a truncated frame.</summary>
    async ValueTask<int> ReadAtLeastAsync(Memory<byte> buffer)
    {
        int read = await _transport.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, _closed.Token).ConfigureAwait(false);
        if (read != 0 && read < buffer.Length) throw new YamuxProtocolException($"connection ended inside a frame ({read} of {buffer.Length} bytes)");
        return read;
    }

    async Task OnDataAsync(YamuxFrameHeader frame)
    {
        if (frame.StreamId == 0) throw new YamuxProtocolException("data frame on stream 0");
        if (frame.Length > MaxPayload || frame.Length > Options.ReceiveWindow)
            throw new YamuxProtocolException($"data frame of {frame.Length} bytes is larger than the receive window of {Options.ReceiveWindow}");
        var stream = await StreamForAsync(frame).ConfigureAwait(false);
        if (frame.Length > 0)
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)frame.Length);
            try
            {
                if (await ReadAtLeastAsync(buffer.AsMemory(0, (int)frame.Length)).ConfigureAwait(false) == 0)
                    throw new YamuxProtocolException("connection ended before a data payload");
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
            if (stream is null) ArrayPool<byte>.Shared.Return(buffer); // a stream we already forgot: drop its data
            else stream.OnData(buffer, (int)frame.Length); // takes ownership of the buffer
        }
        if (stream is not null) await ApplyFlagsAsync(stream, frame.Flags).ConfigureAwait(false);
    }

    async Task OnWindowUpdateAsync(YamuxFrameHeader frame)
    {
        if (frame.StreamId == 0) throw new YamuxProtocolException("window update on stream 0");
        var stream = await StreamForAsync(frame).ConfigureAwait(false);
        if (stream is null) return;
        stream.OnWindowUpdate(frame.Length);
        await ApplyFlagsAsync(stream, frame.Flags).ConfigureAwait(false);
    }

    /// <summary>The stream a frame is for: a new inbound stream on SYN, an existing one, or null for one already gone.</summary>
    async ValueTask<YamuxStream?> StreamForAsync(YamuxFrameHeader frame)
    {
        if ((frame.Flags & YamuxFlags.Syn) == 0)
            return _streams.TryGetValue(frame.StreamId, out var known) ? known : null;

        bool remoteParity = (frame.StreamId % 2 == 1) != _isClient;
        if (!remoteParity) throw new YamuxProtocolException($"peer opened stream {frame.StreamId} with our id parity (both endpoints are {(_isClient ? "clients" : "servers")}?)");
        if (_streams.ContainsKey(frame.StreamId)) throw new YamuxProtocolException($"peer opened stream {frame.StreamId} twice");
        if (IsClosed || _streams.Count >= Options.MaxStreams)
        {
            _logger.LogInformation("Refusing inbound yamux stream {StreamId}: {Count} streams open", frame.StreamId, _streams.Count);
            await WriteFrameAsync(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Rst, frame.StreamId, 0), default, CancellationToken.None).ConfigureAwait(false);
            return null;
        }
        var stream = new YamuxStream(this, frame.StreamId, YamuxOptions.DefaultWindow);
        _streams[frame.StreamId] = stream;
        if (!_accepted.Writer.TryWrite(stream))
        {
            _streams.TryRemove(frame.StreamId, out _);
            _logger.LogInformation("Refusing inbound yamux stream {StreamId}: {Backlog} streams wait to be accepted", frame.StreamId, Options.AcceptBacklog);
            await WriteFrameAsync(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Rst, frame.StreamId, 0), default, CancellationToken.None).ConfigureAwait(false);
            return null;
        }
        await WriteFrameAsync(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Ack, frame.StreamId, ExtraWindow), default, CancellationToken.None).ConfigureAwait(false);
        return stream;
    }

    static Task ApplyFlagsAsync(YamuxStream stream, YamuxFlags flags)
    {
        if ((flags & YamuxFlags.Rst) != 0) stream.OnReset("reset by the peer");
        else if ((flags & YamuxFlags.Fin) != 0) stream.OnRemoteFin();
        return Task.CompletedTask;
    }

    async Task OnPingAsync(YamuxFrameHeader frame)
    {
        if ((frame.Flags & YamuxFlags.Syn) != 0)
            await WriteFrameAsync(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Ack, 0, frame.Length), default, CancellationToken.None).ConfigureAwait(false);
        else if ((frame.Flags & YamuxFlags.Ack) != 0 && _pings.TryRemove(frame.Length, out var ping))
            ping.Done.TrySetResult(Stopwatch.GetElapsedTime(ping.Started));
    }

    void OnGoAway(YamuxFrameHeader frame)
    {
        _goAwayReceived = true;
        _logger.LogInformation("Peer sent yamux GoAway ({Code})", (YamuxGoAwayCode)frame.Length);
    }

    async Task KeepAliveLoopAsync()
    {
        try
        {
            while (!IsClosed)
            {
                await Task.Delay(Options.KeepAliveInterval, _closed.Token).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
                timeout.CancelAfter(Options.KeepAliveInterval);
                try { await PingAsync(timeout.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (!IsClosed)
                {
                    Close($"keep-alive ping unanswered for {Options.KeepAliveInterval.TotalSeconds:0} s");
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
    }

    /// <summary>Writes one whole frame. A write the peer does not drain within 30 s ends the session (a peer that never reads).</summary>
    internal async ValueTask WriteFrameAsync(YamuxFrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        if (IsClosed) throw new IOException($"yamux session closed: {_closeReason}");
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        byte[]? buffer = null;
        try
        {
            if (IsClosed) throw new IOException($"yamux session closed: {_closeReason}");
            int length = YamuxFrameHeader.Size + payload.Length;
            buffer = ArrayPool<byte>.Shared.Rent(length);
            header.Write(buffer);
            payload.Span.CopyTo(buffer.AsSpan(YamuxFrameHeader.Size));
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
            stall.CancelAfter(WriteStallTimeout);
            try
            {
                await _transport.WriteAsync(buffer.AsMemory(0, length), stall.Token).ConfigureAwait(false);
                await _transport.FlushAsync(stall.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_closed.IsCancellationRequested)
            {
                Close($"the peer has not read for {WriteStallTimeout.TotalSeconds:0} s");
                throw new IOException($"yamux session closed: {_closeReason}");
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException && !IsClosed)
        {
            Close("write failed: " + e.Message);
            throw;
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            _writeLock.Release();
        }
    }

    internal static TimeSpan WriteStallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    internal void Forget(uint streamId) => _streams.TryRemove(streamId, out _);

    void Close(string reason)
    {
        reason = _goAwayReason ?? reason; // a GoAway in progress knows the real reason; its failed write does not
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is not null) return;
        _logger.LogDebug("Yamux session closed: {Reason}", reason);
        _closed.Cancel();
        _accepted.Writer.TryComplete();
        foreach (var stream in _streams.Values) stream.OnSessionClosed(reason);
        _streams.Clear();
        foreach (var ping in _pings.Values) ping.Done.TrySetException(new IOException("session closed: " + reason));
        try { _transport.Dispose(); } catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        _completion.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await GoAwayAsync(YamuxGoAwayCode.Normal, "closed locally").ConfigureAwait(false);
        if (_readLoop is not null) await _readLoop.ConfigureAwait(false);
        if (_keepAlive is not null) await _keepAlive.ConfigureAwait(false);
    }
}
