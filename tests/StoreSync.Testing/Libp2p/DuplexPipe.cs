using System.IO.Pipelines;

namespace StoreSync.Testing.Libp2p;

/// <summary>Two connected in-memory duplex streams (what one side writes, the other reads), with back-pressure.</summary>
public static class DuplexPipe
{
    public static (Stream A, Stream B) Create(long pauseWriterThreshold = 1 << 20)
    {
        var options = new PipeOptions(pauseWriterThreshold: pauseWriterThreshold, resumeWriterThreshold: pauseWriterThreshold / 2, useSynchronizationContext: false);
        var ab = new Pipe(options);
        var ba = new Pipe(options);
        return (new End(ba.Reader, ab.Writer), new End(ab.Reader, ba.Writer));
    }

    sealed class End(PipeReader reader, PipeWriter writer) : StoreSync.Libp2p.DuplexStream
    {
        readonly Stream _in = reader.AsStream();
        readonly Stream _out = writer.AsStream();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => _in.ReadAsync(buffer, ct);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) => _out.WriteAsync(buffer, ct);
        public override Task FlushAsync(CancellationToken ct) => _out.FlushAsync(ct);
        public override int Read(byte[] buffer, int offset, int count) => _in.Read(buffer, offset, count);
        public override void Write(byte[] buffer, int offset, int count) => _out.Write(buffer, offset, count);
        public override void Flush() => _out.Flush();
        protected override void Dispose(bool disposing)
        {
            if (disposing) { _out.Dispose(); _in.Dispose(); } // the pipe streams complete their writer and reader
            base.Dispose(disposing);
        }
    }
}
