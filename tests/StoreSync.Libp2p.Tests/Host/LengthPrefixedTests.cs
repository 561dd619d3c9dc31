using StoreSync.Core.Wire;

namespace StoreSync.Libp2p.Tests.Host;

public sealed class LengthPrefixedTests : IDisposable
{
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(10));
    CancellationToken Timeout => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task Round_trips_messages_back_to_back()
    {
        var buffer = new MemoryStream();
        await LengthPrefixed.WriteAsync(buffer, new byte[] { 1, 2, 3 }, Timeout);
        await LengthPrefixed.WriteAsync(buffer, new byte[300], Timeout);
        await LengthPrefixed.WriteAsync(buffer, Array.Empty<byte>(), Timeout);
        Assert.Equal("03010203ac02", Hex.Of(buffer.ToArray().AsSpan(0, 6)));
        buffer.Position = 0;
        Assert.Equal(new byte[] { 1, 2, 3 }, await LengthPrefixed.ReadAsync(buffer, 1000, Timeout));
        Assert.Equal(300, (await LengthPrefixed.ReadAsync(buffer, 1000, Timeout)).Length);
        Assert.Empty(await LengthPrefixed.ReadAsync(buffer, 1000, Timeout));
        Assert.Null(await LengthPrefixed.TryReadAsync(buffer, 1000, Timeout));
    }

    [Fact]
    public async Task An_announced_length_over_the_limit_throws_without_reading_the_body()
    {
        var prefix = new byte[Varint.MaxLength];
        int n = Varint.Write(prefix, 1UL << 40); // 1 TiB: allocating it would fail loudly
        var stream = new MemoryStream(prefix[..n]);
        var e = await Assert.ThrowsAsync<FrameTooLargeException>(async () => await LengthPrefixed.ReadAsync(stream, 4096, Timeout));
        Assert.Contains("exceeds the limit of 4096", e.Message);
        Assert.Equal((1UL << 40, 4096L), (e.Size, e.Limit));
        Assert.Equal(n, stream.Position);
    }

    [Fact]
    public async Task Truncation_inside_the_prefix_or_the_body_throws()
    {
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await LengthPrefixed.ReadAsync(new MemoryStream([0x05, 1, 2]), 100, Timeout));
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await LengthPrefixed.ReadAsync(new MemoryStream([0x80]), 100, Timeout));
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await LengthPrefixed.ReadAsync(new MemoryStream([]), 100, Timeout));
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await LengthPrefixed.TryReadAsync(new MemoryStream([0x02, 9]), 100, Timeout));
    }

    [Fact]
    public async Task Malformed_prefixes_are_protocol_violations()
    {
        await Assert.ThrowsAsync<ProtocolViolationException>(async () => await LengthPrefixed.ReadAsync(new MemoryStream([0x80, 0x00]), 100, Timeout));
        await Assert.ThrowsAsync<ProtocolViolationException>(async () =>
            await LengthPrefixed.ReadAsync(new MemoryStream(Enumerable.Repeat((byte)0xff, 12).ToArray()), 100, Timeout));
    }

    [Fact]
    public async Task A_message_larger_than_the_first_buffer_is_read_whole_and_memory_follows_the_bytes_that_arrive()
    {
        var body = Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray();
        var buffer = new MemoryStream();
        await LengthPrefixed.WriteAsync(buffer, body, Timeout);
        Assert.Equal(LengthPrefixed.WireSize(body.Length), buffer.Length);
        buffer.Position = 0;
        Assert.Equal(body, await LengthPrefixed.ReadAsync(buffer, 1 << 20, Timeout));

        // 64 MiB announced, 3 bytes sent: the read fails without having allocated the announced length.
        var prefix = new byte[Varint.MaxLength];
        int n = Varint.Write(prefix, 64UL << 20);
        var liar = new MemoryStream([.. prefix[..n], 1, 2, 3]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = await Assert.ThrowsAsync<EndOfStreamException>(async () => await LengthPrefixed.ReadAsync(liar, 128 << 20, Timeout));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
        Assert.Contains("stream ended", e.Message);
    }

    [Fact]
    public async Task Reads_exactly_one_message_leaving_what_follows()
    {
        var stream = new MemoryStream([0x01, 0xaa, 0xbb, 0xcc]);
        Assert.Equal(new byte[] { 0xaa }, await LengthPrefixed.ReadAsync(stream, 10, Timeout));
        Assert.Equal(2, stream.Position);
    }
}
