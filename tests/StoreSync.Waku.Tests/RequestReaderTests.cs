using StoreSync.Testing.Libp2p;

namespace StoreSync.Waku.Tests;

/// <summary>The two phases of reading a request: an idle stream may wait long, a started request must finish soon.</summary>
public sealed class RequestReaderTests : IDisposable
{
    static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300), Long = TimeSpan.FromSeconds(30);
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    CancellationToken Timeout => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task A_request_sent_after_a_pause_is_read_whole_and_nothing_after_it()
    {
        var (client, server) = DuplexPipe.Create();
        var read = RequestReader.ReadAsync(server, 100, Long, Short, Timeout);
        await Task.Delay(Short * 2); // longer than the request deadline: the idle phase does not count against it
        await client.WriteAsync(new byte[] { 3, 10, 20, 30, 99 }, Timeout);
        await client.FlushAsync(Timeout);
        Assert.Equal([10, 20, 30], await read);
        var next = new byte[1];
        await server.ReadExactlyAsync(next, Timeout);
        Assert.Equal(99, next[0]);
    }

    [Fact]
    public async Task A_started_request_that_stalls_times_out()
    {
        var (client, server) = DuplexPipe.Create();
        await client.WriteAsync(new byte[] { 50, 1, 2 }, Timeout);
        await client.FlushAsync(Timeout);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => RequestReader.ReadAsync(server, 100, Long, Short, Timeout));
        Assert.Contains("first byte", e.Message);
    }

    [Fact]
    public async Task A_stream_idle_too_long_times_out_and_a_closed_one_is_an_end_of_stream()
    {
        var (_, server) = DuplexPipe.Create();
        Assert.Contains("opening the stream", (await Assert.ThrowsAsync<TimeoutException>(() => RequestReader.ReadAsync(server, 100, Short, Long, Timeout))).Message);
        var (client, other) = DuplexPipe.Create();
        client.Dispose();
        await Assert.ThrowsAsync<EndOfStreamException>(() => RequestReader.ReadAsync(other, 100, Long, Long, Timeout));
    }

    [Fact]
    public async Task An_oversized_length_is_refused_before_the_body()
    {
        var (client, server) = DuplexPipe.Create();
        await client.WriteAsync(new byte[] { 0x80, 0x80, 0x40 }, Timeout);
        await client.FlushAsync(Timeout);
        await Assert.ThrowsAsync<Core.Wire.FrameTooLargeException>(() => RequestReader.ReadAsync(server, 100, Long, Long, Timeout));
    }
}
