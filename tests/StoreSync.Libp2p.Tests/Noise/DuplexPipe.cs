using System.IO.Pipelines;

namespace StoreSync.Libp2p.Tests.Noise;

/// <summary>Two connected in-memory streams (what one side writes the other reads), with pipe back-pressure.</summary>
internal static class DuplexPipe
{
    public static (Stream A, Stream B) Create()
    {
        var options = new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, useSynchronizationContext: false);
        var ab = new Pipe(options);
        var ba = new Pipe(options);
        return (new Side(ba.Reader.AsStream(), ab.Writer.AsStream()), new Side(ab.Reader.AsStream(), ba.Writer.AsStream()));
    }

    /// <summary>Reads from one pipe, writes to the other; disposing completes the outgoing pipe (the peer sees EOF).</summary>
    private sealed class Side(Stream input, Stream output) : Stream
    {
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => input.ReadAsync(buffer, ct);
        public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => output.WriteAsync(buffer, ct);
        public override void Write(byte[] buffer, int offset, int count) => output.Write(buffer, offset, count);
        public override Task FlushAsync(CancellationToken ct) => output.FlushAsync(ct);
        public override void Flush() => output.Flush();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                output.Dispose();
                input.Dispose();
            }
            base.Dispose(disposing);
        }

        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
