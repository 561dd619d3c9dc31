using StoreSync.Core.Wire;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Tests.Host;

public class LengthPrefixedTests
{
    static CancellationToken Timeout => TestHosts.Timeout(10);

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
        var e = await Assert.ThrowsAsync<InvalidDataException>(async () => await LengthPrefixed.ReadAsync(stream, 4096, Timeout));
        Assert.Contains("exceeds the limit of 4096", e.Message);
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
    public async Task Malformed_prefixes_are_invalid_data()
    {
        await Assert.ThrowsAsync<InvalidDataException>(async () => await LengthPrefixed.ReadAsync(new MemoryStream([0x80, 0x00]), 100, Timeout));
        await Assert.ThrowsAsync<InvalidDataException>(async () =>
            await LengthPrefixed.ReadAsync(new MemoryStream(Enumerable.Repeat((byte)0xff, 12).ToArray()), 100, Timeout));
    }

    [Fact]
    public async Task Reads_exactly_one_message_leaving_what_follows()
    {
        var stream = new MemoryStream([0x01, 0xaa, 0xbb, 0xcc]);
        Assert.Equal(new byte[] { 0xaa }, await LengthPrefixed.ReadAsync(stream, 10, Timeout));
        Assert.Equal(2, stream.Position);
    }
}
