namespace StoreSync.Libp2p;

/// <summary>The base of a forward-only, read-only stream wrapper: a subclass writes only its reads.</summary>
public abstract class ReadOnlyStream : DuplexStream
{
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("a read-only stream");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("a read-only stream");
    public override bool CanWrite => false;
}
