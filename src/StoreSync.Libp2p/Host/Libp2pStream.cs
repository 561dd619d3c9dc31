using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Yamux;

namespace StoreSync.Libp2p.Host;

/// <summary>A negotiated stream: a yamux stream with its protocol, connection and the remote peer's proven identity.</summary>
public sealed class Libp2pStream : Stream
{
    readonly YamuxStream _inner;

    internal Libp2pStream(YamuxStream inner, string protocol, Connection connection)
    {
        _inner = inner;
        Protocol = protocol;
        Connection = connection;
    }

    public string Protocol { get; }
    public Connection Connection { get; }
    public PeerId RemotePeer => Connection.RemotePeer;

    /// <summary>Half-closes (FIN): the peer sees the end of our data; its data can still be read.</summary>
    public Task CloseWriteAsync(CancellationToken ct = default) => _inner.CloseWriteAsync(ct);

    public void Reset() => _inner.Reset();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => _inner.ReadAsync(buffer, ct);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _inner.WriteAsync(buffer, ct);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _inner.ReadAsync(buffer, offset, count, ct);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => _inner.WriteAsync(buffer, offset, count, ct);
    public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
    public override ValueTask DisposeAsync() => _inner.DisposeAsync();
    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
