using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Yamux;

namespace StoreSync.Libp2p.Host;

/// <summary>A negotiated stream to a peer: a yamux stream plus who is on the other end and which protocol it speaks.</summary>
public sealed class Libp2pStream : Stream
{
    readonly YamuxStream _inner;
    int _closed;

    internal Libp2pStream(YamuxStream inner, Connection connection, string protocol)
    {
        _inner = inner;
        Connection = connection;
        Protocol = protocol;
        connection.OnStreamOpened();
    }

    public Connection Connection { get; }

    /// <summary>The peer id the security handshake proved.</summary>
    public PeerId RemotePeer => Connection.RemotePeer;

    /// <summary>The protocol agreed by multistream-select.</summary>
    public string Protocol { get; }

    /// <summary>The peer half-closed: reads return 0 once the buffered data is consumed.</summary>
    public bool RemoteClosed => _inner.RemoteClosed;

    /// <summary>Half-close: sends FIN; reading the peer's data stays possible.</summary>
    public Task CloseWriteAsync(CancellationToken ct) => _inner.CloseWriteAsync(ct);

    /// <summary>Aborts both directions (RST); the peer's reads and writes fail.</summary>
    public void Reset()
    {
        _inner.Reset();
        MarkClosed();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => _inner.ReadAsync(buffer, ct);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _inner.WriteAsync(buffer, ct);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _inner.ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _inner.WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("libp2p streams are read asynchronously");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("libp2p streams are written asynchronously");
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Half-closes (FIN) if still open and releases the stream's slot in the connection.</summary>
    public override async ValueTask DisposeAsync()
    {
        try { await _inner.DisposeAsync().ConfigureAwait(false); }
        finally { MarkClosed(); }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            MarkClosed();
        }
        base.Dispose(disposing);
    }

    void MarkClosed()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0) Connection.OnStreamClosed();
    }

    public override string ToString() => $"{Protocol} with {RemotePeer} (yamux stream {_inner.Id})";
}
