using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Yamux;

namespace StoreSync.Libp2p.Host;

/// <summary>A negotiated stream to a peer: a yamux stream plus who is on the other end and which protocol it speaks.</summary>
public sealed class Libp2pStream : DuplexStream
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
