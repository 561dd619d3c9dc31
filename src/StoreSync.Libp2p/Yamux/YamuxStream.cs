using System.Buffers;

namespace StoreSync.Libp2p.Yamux;

/// <summary>One yamux stream: a duplex byte stream with its own flow-control windows, half-close (FIN) and reset (RST).</summary>
/// <remarks>
/// Received data is buffered up to the receive window we granted; reading it credits the peer with a window update once
/// half the window has been consumed. Writes wait for the peer's window and never send beyond it. One reader and one writer
/// may work concurrently; synchronous Read/Write are not supported (the node is async all the way).
/// </remarks>
public sealed class YamuxStream : Stream
{
    readonly YamuxSession _session;
    readonly Lock _lock = new();
    readonly Queue<Segment> _segments = new();
    int _headConsumed;           // bytes already read from the first queued segment
    TaskCompletionSource? _dataWaiter, _windowWaiter;
    int _receiveWindow;          // what the peer may still send before our next update
    int _consumedSinceUpdate;
    long _sendWindow;            // what we may still send
    bool _remoteFin, _localFin, _disposed;
    string? _resetReason;
    string? _sessionClosedReason; // set when the session ended after the peer's FIN

    internal YamuxStream(YamuxSession session, uint id, long sendWindow)
    {
        _session = session;
        Id = id;
        _sendWindow = sendWindow;
        _receiveWindow = session.Options.ReceiveWindow;
    }

    public uint Id { get; }

    /// <summary>The peer half-closed: no more data will arrive after what is buffered.</summary>
    public bool RemoteClosed { get { lock (_lock) return _remoteFin; } }

    public bool IsReset { get { lock (_lock) return _resetReason is not null; } }

    internal void OnData(byte[] buffer, int count)
    {
        lock (_lock)
        {
            if (_remoteFin) { ArrayPool<byte>.Shared.Return(buffer); throw new YamuxProtocolException($"data on stream {Id} after its FIN"); }
            if (count > _receiveWindow)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw new YamuxProtocolException($"stream {Id}: {count} bytes sent into a window of {_receiveWindow}");
            }
            _receiveWindow -= count;
            if (_disposed || _resetReason is not null)
            {
                // Nobody will read it: drop it, but keep crediting the peer so a sender that has not seen our FIN is not stuck.
                ArrayPool<byte>.Shared.Return(buffer);
                _consumedSinceUpdate += count;
            }
            else
            {
                _segments.Enqueue(new Segment(buffer, count));
            }
            Wake(ref _dataWaiter);
        }
    }

    internal void OnWindowUpdate(uint delta)
    {
        lock (_lock)
        {
            _sendWindow += delta;
            if (_sendWindow > uint.MaxValue) throw new YamuxProtocolException($"stream {Id}: window grown beyond 4 GiB");
            Wake(ref _windowWaiter);
        }
    }

    internal void OnRemoteFin()
    {
        bool done;
        lock (_lock)
        {
            _remoteFin = true;
            done = _localFin;
            Wake(ref _dataWaiter);
        }
        if (done) _session.Forget(Id);
    }

    /// <summary>The session ended. A stream whose peer had already finished keeps what it sent, so an answer followed by a
    /// disconnect is still read whole; its own side can send nothing more, so its half-close has nothing left to say.
    /// Any other stream is reset.</summary>
    internal void OnSessionClosed(string reason)
    {
        lock (_lock)
        {
            if (_remoteFin && _resetReason is null)
            {
                _localFin = true;
                _sessionClosedReason = reason;
                Wake(ref _windowWaiter);
                return;
            }
        }
        OnReset("session closed: " + reason);
    }

    internal void OnReset(string reason)
    {
        lock (_lock)
        {
            _resetReason ??= reason;
            while (_segments.TryDequeue(out var s)) ArrayPool<byte>.Shared.Return(s.Buffer);
            _headConsumed = 0;
            Wake(ref _dataWaiter);
            Wake(ref _windowWaiter);
        }
        _session.Forget(Id);
    }

    static void Wake(ref TaskCompletionSource? waiter)
    {
        waiter?.TrySetResult();
        waiter = null;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct = default)
    {
        if (destination.IsEmpty) return 0;
        while (true)
        {
            Task wait;
            uint credit = 0;
            int copied = 0;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                while (copied < destination.Length && _segments.TryPeek(out var segment))
                {
                    int n = Math.Min(segment.Count - _headConsumed, destination.Length - copied);
                    segment.Buffer.AsSpan(_headConsumed, n).CopyTo(destination.Span[copied..]);
                    copied += n;
                    _headConsumed += n;
                    if (_headConsumed == segment.Count)
                    {
                        _segments.Dequeue();
                        ArrayPool<byte>.Shared.Return(segment.Buffer);
                        _headConsumed = 0;
                    }
                }
                if (copied > 0)
                {
                    _consumedSinceUpdate += copied;
                    if (_consumedSinceUpdate >= _session.Options.ReceiveWindow / 2 && !_remoteFin)
                    {
                        credit = (uint)_consumedSinceUpdate;
                        _receiveWindow += _consumedSinceUpdate;
                        _consumedSinceUpdate = 0;
                    }
                }
                if (copied == 0)
                {
                    if (_resetReason is not null) throw new IOException($"yamux stream {Id} {_resetReason}");
                    if (_remoteFin) return 0;
                    _dataWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _dataWaiter.Task;
                }
                else wait = Task.CompletedTask;
            }
            if (copied > 0)
            {
                if (credit > 0) await SendWindowUpdateAsync(credit).ConfigureAwait(false);
                return copied;
            }
            await wait.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    async ValueTask SendWindowUpdateAsync(uint credit)
    {
        try
        {
            await _session.WriteFrameAsync(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.None, Id, credit), default, CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException) { } // the session is gone; the next read reports it
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken ct = default)
    {
        while (!source.IsEmpty)
        {
            int n;
            Task? wait = null;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_resetReason is not null) throw new IOException($"yamux stream {Id} {_resetReason}");
                if (_sessionClosedReason is not null) throw new IOException($"yamux stream {Id}: session closed: {_sessionClosedReason}");
                if (_localFin) throw new InvalidOperationException($"yamux stream {Id}: write after close");
                n = (int)Math.Min(Math.Min(source.Length, _sendWindow), _session.Options.MaxFramePayload);
                if (n == 0)
                {
                    _windowWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _windowWaiter.Task;
                }
                else _sendWindow -= n;
            }
            if (wait is not null)
            {
                await wait.WaitAsync(ct).ConfigureAwait(false);
                continue;
            }
            await _session.WriteFrameAsync(new YamuxFrameHeader(YamuxFrameType.Data, YamuxFlags.None, Id, (uint)n), source[..n], ct).ConfigureAwait(false);
            source = source[n..];
        }
    }

    /// <summary>Half-closes: sends FIN; the peer's data can still be read.</summary>
    public async Task CloseWriteAsync(CancellationToken ct = default)
    {
        bool done;
        lock (_lock)
        {
            if (_localFin || _resetReason is not null) return;
            _localFin = true;
            done = _remoteFin;
        }
        try
        {
            await _session.WriteFrameAsync(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Fin, Id, 0), default, ct).ConfigureAwait(false);
        }
        finally
        {
            if (done) _session.Forget(Id);
        }
    }

    /// <summary>Aborts both directions (RST).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            if (_resetReason is not null) return;
        }
        OnReset("reset locally");
        _ = SendResetAsync();
    }

    async Task SendResetAsync()
    {
        try { await _session.WriteFrameAsync(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Rst, Id, 0), default, CancellationToken.None).ConfigureAwait(false); }
        catch (IOException) { }
    }

    public override async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            while (_segments.TryDequeue(out var s)) ArrayPool<byte>.Shared.Return(s.Buffer);
            _headConsumed = 0;
        }
        try { await CloseWriteAsync().ConfigureAwait(false); }
        catch (IOException) { }
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _ = DisposeAsync().AsTask();
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("yamux streams are read asynchronously");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("yamux streams are written asynchronously");
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    readonly record struct Segment(byte[] Buffer, int Count);
}
