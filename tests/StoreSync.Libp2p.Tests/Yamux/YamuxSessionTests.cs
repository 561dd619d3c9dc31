using System.Security.Cryptography;
using StoreSync.Libp2p.Yamux;
using StoreSync.Testing.Libp2p;

namespace StoreSync.Libp2p.Tests.Yamux;

public sealed class YamuxSessionTests : IAsyncDisposable
{
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(20));
    CancellationToken Timeout => _timeout.Token;
    readonly YamuxSession _client, _server;
    readonly Stream _clientTransport, _serverTransport;

    public YamuxSessionTests()
    {
        (_clientTransport, _serverTransport) = DuplexPipe.Create();
        _client = new YamuxSession(_clientTransport, isClient: true);
        _server = new YamuxSession(_serverTransport, isClient: false);
        _client.Start();
        _server.Start();
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        _timeout.Dispose();
    }

    [Theory]
    [InlineData(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1u, 0u, "000100010000000100000000")]
    [InlineData(YamuxFrameType.WindowUpdate, YamuxFlags.Ack, 1u, 0u, "000100020000000100000000")]
    [InlineData(YamuxFrameType.Data, YamuxFlags.None, 1u, 28u, "00000000000000010000001c")]
    [InlineData(YamuxFrameType.WindowUpdate, YamuxFlags.Fin, 1u, 0u, "000100040000000100000000")]
    [InlineData(YamuxFrameType.Data, YamuxFlags.Fin, 1u, 0u, "000000040000000100000000")]
    [InlineData(YamuxFrameType.WindowUpdate, YamuxFlags.Rst, 1u, 0u, "000100080000000100000000")]
    [InlineData(YamuxFrameType.Ping, YamuxFlags.Syn, 0u, 7u, "000200010000000000000007")]
    [InlineData(YamuxFrameType.Ping, YamuxFlags.Ack, 0u, 7u, "000200020000000000000007")]
    [InlineData(YamuxFrameType.GoAway, YamuxFlags.None, 0u, 0u, "000300000000000000000000")]
    public void Headers_match_the_spec_vectors(YamuxFrameType type, YamuxFlags flags, uint id, uint length, string hex)
    {
        var header = new YamuxFrameHeader(type, flags, id, length);
        var bytes = new byte[12];
        header.Write(bytes);
        Assert.Equal(hex, Convert.ToHexStringLower(bytes));
        Assert.Equal(header, YamuxFrameHeader.Read(bytes));
    }

    [Fact]
    public async Task Data_flows_both_ways_and_fin_ends_reading()
    {
        var opened = await _client.OpenStreamAsync(Timeout);
        await opened.WriteAsync("ping"u8.ToArray(), Timeout);
        await opened.CloseWriteAsync(Timeout);
        var accepted = await _server.AcceptStreamAsync(Timeout);
        Assert.Equal(1u, opened.Id);
        Assert.Equal(1u, accepted.Id);
        var received = new MemoryStream();
        await accepted.CopyToAsync(received, Timeout);
        Assert.Equal("ping"u8.ToArray(), received.ToArray());
        await accepted.WriteAsync("pong"u8.ToArray(), Timeout);
        await accepted.CloseWriteAsync(Timeout);
        var back = new MemoryStream();
        await opened.CopyToAsync(back, Timeout);
        Assert.Equal("pong"u8.ToArray(), back.ToArray());
        Assert.Equal(0, _client.ActiveStreams);
    }

    [Fact]
    public async Task Thirty_two_concurrent_streams_each_echo_a_mebibyte()
    {
        var echo = Task.Run(async () =>
        {
            var handlers = new List<Task>();
            for (int i = 0; i < 32; i++)
            {
                var s = await _server.AcceptStreamAsync(Timeout);
                handlers.Add(Task.Run(async () => { await s.CopyToAsync(s, Timeout); await s.CloseWriteAsync(Timeout); }));
            }
            await Task.WhenAll(handlers);
        });
        var clients = Enumerable.Range(0, 32).Select(async i =>
        {
            var data = RandomNumberGenerator.GetBytes(1 << 20);
            var s = await _client.OpenStreamAsync(Timeout);
            var reader = Task.Run(async () => { var m = new MemoryStream(); await s.CopyToAsync(m, Timeout); return m.ToArray(); });
            await s.WriteAsync(data, Timeout);
            await s.CloseWriteAsync(Timeout);
            Assert.Equal(data, await reader);
        });
        await Task.WhenAll(clients);
        await echo;
    }

    [Fact]
    public async Task A_writer_blocked_by_a_full_window_resumes_when_the_reader_reads()
    {
        var s = await _client.OpenStreamAsync(Timeout);
        var data = RandomNumberGenerator.GetBytes(3 * _server.Options.ReceiveWindow);
        var write = s.WriteAsync(data, Timeout).AsTask();
        var accepted = await _server.AcceptStreamAsync(Timeout);
        await Task.Delay(200);
        // Cannot have finished: the receiver grants at most one window and nobody has read.
        Assert.False(write.IsCompleted);
        var received = new byte[data.Length];
        await accepted.ReadExactlyAsync(received, Timeout);
        await write;
        Assert.Equal(data, received);
    }

    [Fact]
    public async Task Reset_makes_the_peer_read_fail()
    {
        var s = await _client.OpenStreamAsync(Timeout);
        await s.WriteAsync(new byte[10], Timeout);
        var accepted = await _server.AcceptStreamAsync(Timeout);
        s.Reset();
        await Assert.ThrowsAsync<IOException>(async () => { var b = new byte[100]; while (await accepted.ReadAsync(b, Timeout) > 0) { } });
    }

    [Fact]
    public async Task Ping_round_trips() => Assert.True(await _client.PingAsync(Timeout) >= TimeSpan.Zero);

    [Fact]
    public async Task Session_end_fails_open_streams()
    {
        var s = await _client.OpenStreamAsync(Timeout);
        await _server.GoAwayAsync(YamuxGoAwayCode.Normal, "test");
        await _client.Completion.WaitAsync(Timeout);
        await Assert.ThrowsAsync<IOException>(async () => { var n = await s.ReadAsync(new byte[1], Timeout); Assert.Fail($"read {n} bytes from a dead session"); });
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _client.OpenStreamAsync(Timeout));
    }

    [Fact]
    public async Task An_answer_followed_by_the_end_of_the_session_is_read_whole()
    {
        var s = await _client.OpenStreamAsync(Timeout);
        await s.WriteAsync("request"u8.ToArray(), Timeout);
        var accepted = await _server.AcceptStreamAsync(Timeout);
        await accepted.WriteAsync("answer"u8.ToArray(), Timeout);
        await accepted.CloseWriteAsync(Timeout);
        await _server.GoAwayAsync(YamuxGoAwayCode.Normal, "penalised");
        await _client.Completion.WaitAsync(Timeout);

        await s.CloseWriteAsync(Timeout); // nothing left to say to a peer that finished and left
        var back = new MemoryStream();
        await s.CopyToAsync(back, Timeout);
        Assert.Equal("answer"u8.ToArray(), back.ToArray());
        await Assert.ThrowsAsync<IOException>(async () => await s.WriteAsync(new byte[1], Timeout));
    }
}
