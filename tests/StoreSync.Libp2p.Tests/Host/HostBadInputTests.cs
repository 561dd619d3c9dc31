using System.Security.Cryptography;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Multistream;
using StoreSync.Libp2p.Yamux;

namespace StoreSync.Libp2p.Tests.Host;

/// <summary>A misbehaving peer loses its own connection, with a logged reason, in bounded time and memory; other peers are unaffected.</summary>
/// <remarks>Not parallel with other tests: one test lowers the yamux write-stall timeout, and the memory bound reads process-wide counters.</remarks>
[Collection(nameof(HostBadInputTests))]
[CollectionDefinition(nameof(HostBadInputTests), DisableParallelization = true)]
public class HostBadInputTests
{
    static ISecurityProtocol Security => TestHosts.Security;

    static async Task<(Libp2pHost Server, Libp2pHost Client, Connection Good, CollectingLoggerFactory Logs)> SetupAsync(HostOptions? options = null)
    {
        var logs = new CollectingLoggerFactory();
        var server = await TestHosts.StartAsync(options ?? TestHosts.Options with { HandshakeTimeout = TimeSpan.FromSeconds(2) }, logs: logs);
        var client = await TestHosts.StartAsync();
        var good = await client.DialAsync(server.ListenAddresses[0], TestHosts.Timeout());
        await good.Identified.WaitAsync(TestHosts.Timeout());
        return (server, client, good, logs);
    }

    static async Task AssertStillServesAsync(Libp2pHost server, Libp2pHost client, Connection good)
    {
        var ct = TestHosts.Timeout();
        Assert.False(good.IsClosed);
        Assert.True(await good.PingAsync(ct) >= TimeSpan.Zero);
        await using var stream = await good.NewStreamAsync(TestHosts.EchoProtocol, ct);
        var echoed = await TestHosts.EchoRoundTripAsync(stream, [1, 2, 3], () => stream.CloseWriteAsync(ct), ct);
        Assert.Equal([1, 2, 3], echoed);
        Assert.Contains(server.Connections, c => c.RemotePeer == client.PeerId);
    }

    static byte[] Frame(YamuxFrameType type, YamuxFlags flags, uint id, uint length, int payload = 0)
    {
        var bytes = new byte[YamuxFrameHeader.Size + payload];
        new YamuxFrameHeader(type, flags, id, length).Write(bytes);
        return bytes;
    }

    [Fact]
    public async Task Random_bytes_instead_of_multistream_close_the_connection()
    {
        var (server, client, good, logs) = await SetupAsync();
        await using (server) await using (client)
        {
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], TestHosts.Timeout());
            await raw.Stream.WriteAsync(RandomNumberGenerator.GetBytes(4096), TestHosts.Timeout());
            Assert.True(await raw.WaitClosedAsync(TestHosts.Timeout(10)));
            Assert.Contains("during its handshake", await logs.WaitForAsync("multistream", TimeSpan.FromSeconds(10)));
            await AssertStillServesAsync(server, client, good);
        }
    }

    [Fact]
    public async Task A_multistream_line_longer_than_the_limit_closes_the_connection()
    {
        var (server, client, good, logs) = await SetupAsync();
        await using (server) await using (client)
        {
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], TestHosts.Timeout());
            await raw.Stream.WriteAsync(new byte[] { 0xff, 0xff, 0x03 }, TestHosts.Timeout()); // announces a 64 KiB line
            Assert.True(await raw.WaitClosedAsync(TestHosts.Timeout(10)));
            await logs.WaitForAsync("during its handshake", TimeSpan.FromSeconds(10));
            await AssertStillServesAsync(server, client, good);
        }
    }

    [Fact]
    public async Task A_truncated_security_handshake_times_out()
    {
        var (server, client, good, logs) = await SetupAsync();
        await using (server) await using (client)
        {
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], TestHosts.Timeout());
            await MultistreamSelect.SelectAsync(raw.Stream, [Security.ProtocolId], TestHosts.Timeout());
            // Announces a longer first message (Noise: u16 0x2000; plaintext: uvarint 0x20) and sends only 3 bytes of it.
            await raw.Stream.WriteAsync(new byte[] { 0x20, 0x00, 1, 2, 3 }, TestHosts.Timeout());
            Assert.True(await raw.WaitClosedAsync(TestHosts.Timeout(15)));
            await logs.WaitForAsync("handshake not completed within 2 s", TimeSpan.FromSeconds(10));
            await AssertStillServesAsync(server, client, good);
        }
    }

    [Fact]
    public async Task A_silent_connection_times_out_and_pending_handshakes_are_bounded()
    {
        var (server, client, good, logs) = await SetupAsync(TestHosts.Options with { HandshakeTimeout = TimeSpan.FromSeconds(2), MaxPendingHandshakes = 2 });
        await using (server) await using (client)
        {
            var silent = new List<RawPeer>();
            for (int i = 0; i < 3; i++) silent.Add(await RawPeer.ConnectAsync(server.ListenAddresses[0], TestHosts.Timeout()));
            await logs.WaitForAsync("handshakes already pending", TimeSpan.FromSeconds(10));
            foreach (var s in silent) Assert.True(await s.WaitClosedAsync(TestHosts.Timeout(15)));
            await logs.WaitForAsync("handshake not completed", TimeSpan.FromSeconds(10));
            foreach (var s in silent) await s.DisposeAsync();
            await AssertStillServesAsync(server, client, good);
        }
    }

    [Fact]
    public async Task An_oversized_yamux_frame_closes_only_that_connection_without_allocating_it()
    {
        var (server, client, good, logs) = await SetupAsync();
        await using (server) await using (client)
        {
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], TestHosts.Timeout());
            await raw.UpgradeAsync(Security, TestHosts.Timeout());
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await raw.Stream.WriteAsync(Frame(YamuxFrameType.Data, YamuxFlags.Syn, 1, 0xffff_fff0), TestHosts.Timeout());
            await raw.Stream.FlushAsync(TestHosts.Timeout());
            Assert.True(await raw.WaitClosedAsync(TestHosts.Timeout(10)));
            Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 64 << 20, "a 4 GiB frame header must not cause a large allocation");
            await logs.WaitForAsync("larger than the receive window", TimeSpan.FromSeconds(10));
            await AssertStillServesAsync(server, client, good);
        }
    }

    [Fact]
    public async Task Data_beyond_the_granted_window_closes_the_connection()
    {
        var (server, client, good, logs) = await SetupAsync();
        await using (server) await using (client)
        {
            // A handler that never reads: nothing is credited back, so the window we granted is all the peer may send.
            server.SetStreamHandler("/storesync/test/hold/1.0.0", (_, c) => Task.Delay(System.Threading.Timeout.Infinite, c));
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], TestHosts.Timeout());
            await raw.UpgradeAsync(Security, TestHosts.Timeout());
            var negotiation = new byte[256];
            int length = MultistreamMessage.Encode(negotiation, MultistreamSelect.ProtocolId);
            length += MultistreamMessage.Encode(negotiation.AsSpan(length), "/storesync/test/hold/1.0.0");
            var open = Frame(YamuxFrameType.Data, YamuxFlags.Syn, 1, (uint)length, length);
            negotiation.AsSpan(0, length).CopyTo(open.AsSpan(YamuxFrameHeader.Size));
            await raw.Stream.WriteAsync(open, TestHosts.Timeout());
            int window = TestHosts.Options.Yamux.ReceiveWindow;
            for (int sent = 0; sent < window; sent += window / 2)
                await raw.Stream.WriteAsync(Frame(YamuxFrameType.Data, YamuxFlags.None, 1, (uint)(window / 2), window / 2), TestHosts.Timeout());
            await raw.Stream.FlushAsync(TestHosts.Timeout());
            Assert.True(await raw.WaitClosedAsync(TestHosts.Timeout(10)));
            await logs.WaitForAsync("sent into a window of", TimeSpan.FromSeconds(10));
            await AssertStillServesAsync(server, client, good);
        }
    }

    [Fact]
    public async Task A_peer_that_never_reads_is_dropped_when_our_writes_stall()
    {
        var stall = YamuxSession.WriteStallTimeout;
        YamuxSession.WriteStallTimeout = TimeSpan.FromSeconds(2);
        try
        {
            var (server, client, good, logs) = await SetupAsync();
            await using (server) await using (client)
            {
                await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], TestHosts.Timeout());
                await raw.UpgradeAsync(Security, TestHosts.Timeout());
                // Each ping obliges the host to write an ACK; we never read them, so the socket buffers fill and its writer stalls.
                var pings = new byte[YamuxFrameHeader.Size * 4096];
                for (int i = 0; i < 4096; i++) new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, (uint)i).Write(pings.AsSpan(i * YamuxFrameHeader.Size));
                using var flooding = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    for (int round = 0; round < 1000; round++) await raw.Stream.WriteAsync(pings, flooding.Token);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException) { } // the host closed on us, as it should
                await logs.WaitForAsync("has not read", TimeSpan.FromSeconds(20));
                await AssertStillServesAsync(server, client, good);
            }
        }
        finally
        {
            YamuxSession.WriteStallTimeout = stall;
        }
    }
}
