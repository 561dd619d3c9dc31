using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Noise;
using Xunit.Abstractions;

namespace StoreSync.Libp2p.Tests.Noise;

/// <summary>Encrypting and decrypting transport messages allocates nothing per message once a channel exists.</summary>
public class SecureChannelAllocationTests(ITestOutputHelper output)
{
    private const int Total = 16 * 1024 * 1024;
    private const int Chunk = 64 * 1024;
    private const int WarmUp = 4 * 1024 * 1024;

    /// <summary>
    /// Far below one object per message (256 messages each way), yet tolerant of the runtime's own one-off
    /// allocations (tiering, type loading) that land on this thread when the whole suite runs.
    /// </summary>
    private const long Tolerance = 16 * 1024;

    [Fact]
    public void Steady_state_writes_and_reads_do_not_allocate()
    {
        var key = new byte[32];
        key[0] = 1;
        var identity = IdentityKey.Generate(KeyType.Ed25519);
        // Pre-sized, so the sink itself never grows while we measure.
        var wire = new MemoryStream(Total + Total / 100);
        using var sender = new SecureChannel(wire, new CipherState(key), new CipherState(key), identity.PeerId, identity.PublicKey, new byte[32]);
        var chunk = new byte[Chunk];
        // First use: JIT, tiering and lazy crypto initialisation.
        for (int written = 0; written < WarmUp; written += Chunk) sender.Write(chunk);

        // Sync calls stay on this thread, so the per-thread counter sees only our own allocations.
        long before = GC.GetAllocatedBytesForCurrentThread();
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int written = WarmUp; written < Total; written += Chunk) sender.Write(chunk);
        var writeTime = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        long writeAllocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var inbound = new MemoryStream(wire.GetBuffer(), 0, (int)wire.Length, writable: false);
        using var receiver = new SecureChannel(inbound, new CipherState(key), new CipherState(key), identity.PeerId, identity.PublicKey, new byte[32]);
        for (int read = 0; read < WarmUp; read += Chunk) receiver.ReadExactly(chunk);
        before = GC.GetAllocatedBytesForCurrentThread();
        started = System.Diagnostics.Stopwatch.GetTimestamp();
        int total = WarmUp;
        // Bounded by the finite MemoryStream: Read returns 0 at its end.
        for (int n; (n = receiver.Read(chunk)) > 0;) total += n;
        var readTime = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        long readAllocated = GC.GetAllocatedBytesForCurrentThread() - before;

        const double measuredMiB = (Total - WarmUp) / (1024.0 * 1024.0);
        output.WriteLine($"12 MiB after warm-up: {writeAllocated} bytes allocated writing, {readAllocated} reading; "
            + $"one thread, MemoryStream transport: encrypt {measuredMiB / writeTime.TotalSeconds:F0} MiB/s, decrypt {measuredMiB / readTime.TotalSeconds:F0} MiB/s");
        Assert.Equal(Total, total);
        Assert.True(writeAllocated < Tolerance, $"writing 12 MiB allocated {writeAllocated} bytes");
        Assert.True(readAllocated < Tolerance, $"reading 12 MiB allocated {readAllocated} bytes");
    }
}
