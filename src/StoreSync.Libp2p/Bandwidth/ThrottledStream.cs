namespace StoreSync.Libp2p.Bandwidth;

/// <summary>A view of a stream whose writes and reads are paced by token buckets: a write is cut into chunks, each sent when
/// its chain allows; a read waits after receiving until its bytes are paid for, which holds the sender back through flow control.</summary>
/// <remarks>
/// Does not own the inner stream: disposing the view leaves it open, so protocol code keeps closing and resetting the
/// original (e.g. <c>Libp2pStream.CloseWriteAsync</c>). <see cref="WriteChain"/> may be replaced between
/// writes when one stream carries traffic of several scopes (a sync transfer's frames). Async only, like the streams it wraps.
/// </remarks>
public sealed class ThrottledStream(Stream inner, BandwidthChain read, BandwidthChain write) : Stream
{
    public Stream Inner => inner;

    /// <summary>Charged for bytes read.</summary>
    public BandwidthChain ReadChain { get; set; } = read;

    /// <summary>Charged for bytes written.</summary>
    public BandwidthChain WriteChain { get; set; } = write;

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        var chain = WriteChain;
        int chunk = chain.ChunkBytes;
        while (!buffer.IsEmpty)
        {
            int n = Math.Min(chunk, buffer.Length);
            await chain.WaitAsync(n, ct).ConfigureAwait(false);
            await inner.WriteAsync(buffer[..n], ct).ConfigureAwait(false);
            buffer = buffer[n..];
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var chain = ReadChain;
        int n = await inner.ReadAsync(buffer[..Math.Min(buffer.Length, chain.ChunkBytes)], ct).ConfigureAwait(false);
        if (n > 0) await chain.WaitAsync(n, ct).ConfigureAwait(false);
        return n;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("throttled streams are read asynchronously");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("throttled streams are written asynchronously");
    public override bool CanRead => inner.CanRead;
    public override bool CanWrite => inner.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
