namespace StoreSync.Libp2p.Tests.Noise;

/// <summary>Passes everything through and keeps a copy of the bytes written, to compare with reference wire bytes.</summary>
internal sealed class RecordingStream(Stream inner) : Stream
{
    private readonly MemoryStream _written = new();

    public byte[] TakeWritten()
    {
        var bytes = _written.ToArray();
        _written.SetLength(0);
        return bytes;
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => inner.ReadAsync(buffer, ct);
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        _written.Write(buffer.Span);
        return inner.WriteAsync(buffer, ct);
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        _written.Write(buffer, offset, count);
        inner.Write(buffer, offset, count);
    }

    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
    public override void Flush() => inner.Flush();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
