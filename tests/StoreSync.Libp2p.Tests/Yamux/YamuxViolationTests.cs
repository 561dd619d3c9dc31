using StoreSync.Libp2p.Yamux;
using StoreSync.Testing.Libp2p;

namespace StoreSync.Libp2p.Tests.Yamux;

/// <summary>A misbehaving raw peer ends only its own session, with a reason, in bounded time and memory.</summary>
public sealed class YamuxViolationTests : IDisposable
{
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(20));
    CancellationToken Timeout => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    static byte[] Frame(YamuxFrameType type, YamuxFlags flags, uint id, uint length, int payload = 0)
    {
        var bytes = new byte[12 + payload];
        new YamuxFrameHeader(type, flags, id, length).Write(bytes);
        return bytes;
    }

    Task<string> SessionEndsWith(params byte[][] frames) => SessionEndsWith(false, frames);

    async Task<string> SessionEndsWith(bool thenHangUp, params byte[][] frames)
    {
        var (raw, mine) = DuplexPipe.Create(pauseWriterThreshold: 64 << 20);
        var session = new YamuxSession(mine, isClient: false);
        session.Start();
        foreach (var f in frames) await raw.WriteAsync(f, Timeout);
        if (thenHangUp) raw.Dispose();
        await session.Completion.WaitAsync(Timeout);
        return session.CloseReason!;
    }

    [Fact]
    public async Task Data_beyond_the_window_is_a_violation() =>
        Assert.Contains("window", await SessionEndsWith(
            Frame(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0),
            Frame(YamuxFrameType.Data, YamuxFlags.None, 1, 1024 * 1024, 1024 * 1024),
            Frame(YamuxFrameType.Data, YamuxFlags.None, 1, 10, 10)));

    [Fact]
    public async Task An_oversized_frame_is_refused_before_reading_it() =>
        Assert.Contains("larger than the receive window", await SessionEndsWith(Frame(YamuxFrameType.Data, YamuxFlags.Syn, 1, 0xffff_fff0)));

    [Fact]
    public async Task A_bad_version_is_a_violation() =>
        Assert.Contains("version", await SessionEndsWith([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]));

    [Fact]
    public async Task Both_endpoints_acting_as_server_is_a_violation() =>
        Assert.Contains("parity", await SessionEndsWith(Frame(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 2, 0)));

    [Fact]
    public async Task A_truncated_frame_ends_the_session() =>
        Assert.Contains("inside a frame", await SessionEndsWith(thenHangUp: true, [0, 0, 0]));

    [Fact]
    public async Task Random_bytes_end_the_session()
    {
        var random = new Random(7);
        for (int i = 0; i < 20; i++)
        {
            var bytes = new byte[random.Next(1, 200)];
            random.NextBytes(bytes);
            var (raw, mine) = DuplexPipe.Create();
            var session = new YamuxSession(mine, isClient: false);
            session.Start();
            await raw.WriteAsync(bytes, Timeout);
            raw.Dispose();
            await session.Completion.WaitAsync(Timeout);
            Assert.NotNull(session.CloseReason);
        }
    }

    [Fact]
    public async Task Too_many_streams_are_reset_not_accepted()
    {
        var (raw, mine) = DuplexPipe.Create();
        var session = new YamuxSession(mine, isClient: false, new YamuxOptions { MaxStreams = 2, AcceptBacklog = 8 });
        session.Start();
        for (uint id = 1; id <= 7; id += 2) await raw.WriteAsync(Frame(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, id, 0), Timeout);
        var reply = new byte[12 * 4];
        await raw.ReadExactlyAsync(reply, Timeout);
        var headers = Enumerable.Range(0, 4).Select(i => YamuxFrameHeader.Read(reply.AsSpan(12 * i))).ToList();
        Assert.Equal([YamuxFlags.Ack, YamuxFlags.Ack, YamuxFlags.Rst, YamuxFlags.Rst], headers.Select(h => h.Flags));
        Assert.Equal(2, session.ActiveStreams);
        await session.DisposeAsync();
    }

    [Fact]
    public async Task A_peer_that_never_reads_is_cut_off()
    {
        var saved = YamuxSession.WriteStallTimeout;
        YamuxSession.WriteStallTimeout = TimeSpan.FromSeconds(1);
        try
        {
            var (raw, mine) = DuplexPipe.Create(pauseWriterThreshold: 64 * 1024);
            var session = new YamuxSession(mine, isClient: true, new YamuxOptions { KeepAliveInterval = TimeSpan.Zero });
            session.Start();
            var stream = await session.OpenStreamAsync(Timeout);
            // The raw peer grants a huge window but never reads a byte.
            await raw.WriteAsync(Frame(YamuxFrameType.WindowUpdate, YamuxFlags.Ack, 1, 64 << 20), Timeout);
            await Assert.ThrowsAsync<IOException>(async () => await stream.WriteAsync(new byte[8 << 20], Timeout));
            await session.Completion.WaitAsync(Timeout);
            Assert.Contains("has not read", session.CloseReason);
        }
        finally
        {
            YamuxSession.WriteStallTimeout = saved;
        }
    }
}
