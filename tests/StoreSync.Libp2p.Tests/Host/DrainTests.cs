using System.Net.Sockets;

namespace StoreSync.Libp2p.Tests.Host;

/// <summary>A graceful stop: requests already running are answered, new streams and connections are refused.</summary>
public class DrainTests
{
    const string Slow = "/storesync/test/slow/1.0.0";

    [Fact]
    public async Task Drain_finishes_running_handlers_and_refuses_new_streams_and_connections()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        var requestStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestHosts.StartAsync();
        // Reads a request, waits for the rest of it (the client sends it only once the drain has begun), answers "done".
        server.SetStreamHandler(Slow, async (s, c) =>
        {
            var buffer = new byte[4];
            await s.ReadExactlyAsync(buffer.AsMemory(0, 2), c);
            requestStarted.TrySetResult();
            await s.ReadExactlyAsync(buffer.AsMemory(2, 2), c);
            await s.WriteAsync("done"u8.ToArray(), c);
            await s.CloseWriteAsync(c);
        });
        await using var client = await TestHosts.StartAsync();
        var connection = await client.DialAsync(server.ListenAddresses[0], ct);
        await connection.Identified.WaitAsync(ct);

        var inFlight = await connection.NewStreamAsync(Slow, ct);
        await inFlight.WriteAsync(new byte[2], ct);
        await requestStarted.Task.WaitAsync(ct);
        var drain = server.DrainAsync(TimeSpan.FromSeconds(20), ct);
        Assert.True(server.IsDraining);

        // A new stream on the open connection is reset; a new TCP connection is refused (the listener is closed).
        await Assert.ThrowsAnyAsync<IOException>(() => connection.NewStreamAsync(Slow, ct));
        var (ip, port, _) = server.ListenAddresses[0].ToTcpDialTarget();
        using (var tcp = new TcpClient())
            await Assert.ThrowsAsync<SocketException>(async () => await tcp.ConnectAsync(ip, port, ct));
        Assert.False(drain.IsCompleted);

        // The request in flight completes and gets its whole answer.
        await inFlight.WriteAsync(new byte[2], ct);
        await inFlight.CloseWriteAsync(ct);
        var answer = new byte[4];
        await inFlight.ReadExactlyAsync(answer, ct);
        Assert.Equal("done"u8.ToArray(), answer);
        Assert.Equal(0, await drain);
    }

    [Fact]
    public async Task Drain_gives_up_after_its_timeout_and_reports_what_still_runs()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestHosts.StartAsync();
        server.SetStreamHandler(Slow, async (s, c) => { started.TrySetResult(); await Task.Delay(Timeout.Infinite, c); });
        await using var client = await TestHosts.StartAsync();
        await using var stream = await client.NewStreamAsync(server.ListenAddresses[0], Slow, ct);
        await started.Task.WaitAsync(ct);
        Assert.Equal(1, await server.DrainAsync(TimeSpan.FromMilliseconds(200), ct));
    }
}
