using Microsoft.Extensions.Time.Testing;
using StoreSync.Libp2p.Bandwidth;

namespace StoreSync.Libp2p.Tests.Bandwidth;

/// <summary>Paced writes and reads on a fake clock: chunking, both buckets of a chain charged, cancellation.</summary>
public class ThrottledStreamTests
{
    const int KiB = 1024;

    [Fact]
    public async Task A_write_larger_than_the_burst_is_paced_chunk_by_chunk()
    {
        var clock = new FakeTimeProvider();
        var bucket = new TokenBucket(16 * KiB, 16 * KiB, clock);
        var chain = new BandwidthChain([bucket]);
        var sink = new LockedMemoryStream();
        var stream = new ThrottledStream(sink, BandwidthChain.Unlimited, chain);
        Assert.Equal(16 * KiB, chain.ChunkBytes);

        var write = stream.WriteAsync(new byte[80 * KiB]).AsTask();
        await sink.UntilLength(16 * KiB); // the burst goes at once
        for (int second = 1; second <= 4; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1));
            await Task.Delay(20);
            Assert.Equal(second * 16 * KiB, sink.Length); // not a tick early
            clock.Advance(TimeSpan.FromTicks(1));
            await sink.UntilLength((second + 1) * 16 * KiB);
        }
        await write.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(80 * KiB, bucket.PacedBytes);
    }

    [Fact]
    public async Task Both_buckets_of_a_chain_are_charged_and_the_slower_one_paces()
    {
        var clock = new FakeTimeProvider();
        var global = new TokenBucket(16 * KiB, 16 * KiB, clock);
        var communityA = new TokenBucket(64 * KiB, 16 * KiB, clock);
        var communityB = new TokenBucket(0, 16 * KiB, clock);
        var a = new LockedMemoryStream();
        var b = new LockedMemoryStream();
        var writeA = new ThrottledStream(a, BandwidthChain.Unlimited, new BandwidthChain([communityA, global])).WriteAsync(new byte[32 * KiB]).AsTask();
        await a.UntilLength(16 * KiB);
        var writeB = new ThrottledStream(b, BandwidthChain.Unlimited, new BandwidthChain([communityB, global])).WriteAsync(new byte[16 * KiB]).AsTask();
        // The global bucket queues B's chunk behind A's second one, though B's own community is unlimited.
        clock.Advance(TimeSpan.FromSeconds(1));
        await a.UntilLength(32 * KiB);
        await Task.Delay(20);
        Assert.Equal(0, b.Length);
        clock.Advance(TimeSpan.FromSeconds(1));
        await b.UntilLength(16 * KiB);
        await Task.WhenAll(writeA, writeB).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(48 * KiB, global.PacedBytes);
        Assert.Equal(32 * KiB, communityA.PacedBytes);
        Assert.Equal(16 * KiB, communityB.PacedBytes);
    }

    [Fact]
    public async Task A_waiting_write_ends_at_once_when_cancelled()
    {
        var clock = new FakeTimeProvider();
        var sink = new LockedMemoryStream();
        var stream = new ThrottledStream(sink, BandwidthChain.Unlimited, new BandwidthChain([new TokenBucket(KiB, KiB, clock)]));
        using var cts = new CancellationTokenSource();
        var write = stream.WriteAsync(new byte[10 * KiB], cts.Token).AsTask();
        await sink.UntilLength(KiB);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(KiB, sink.Length);
    }

    [Fact]
    public async Task Reads_are_paid_for_before_they_return()
    {
        var clock = new FakeTimeProvider();
        var source = new MemoryStream(new byte[48 * KiB]);
        var stream = new ThrottledStream(source, new BandwidthChain([new TokenBucket(16 * KiB, 16 * KiB, clock)]), BandwidthChain.Unlimited);
        var buffer = new byte[64 * KiB];
        Assert.Equal(16 * KiB, await stream.ReadAsync(buffer)); // one chunk at most, within the burst
        var second = stream.ReadAsync(buffer).AsTask();
        await Task.Delay(20);
        Assert.False(second.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(16 * KiB, await second.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task An_unlimited_chain_writes_in_one_piece_per_chunk_without_waiting()
    {
        var sink = new LockedMemoryStream();
        await new ThrottledStream(sink, BandwidthChain.Unlimited, BandwidthChain.Unlimited).WriteAsync(new byte[100 * KiB]);
        Assert.Equal(100 * KiB, sink.Length);
    }
}

/// <summary>A memory stream whose length can be read while another task writes.</summary>
sealed class LockedMemoryStream : Stream
{
    readonly MemoryStream _inner = new();
    long _length;

    public override long Length => Interlocked.Read(ref _length);

    public async Task UntilLength(long expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (Length < expected) await Task.Delay(1, timeout.Token);
        Assert.Equal(expected, Length);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        lock (_inner) _inner.Write(buffer.Span);
        Interlocked.Add(ref _length, buffer.Length);
        return ValueTask.CompletedTask;
    }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Flush() { }
    public override bool CanRead => false;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
