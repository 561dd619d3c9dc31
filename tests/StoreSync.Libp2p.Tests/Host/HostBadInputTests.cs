using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multistream;
using StoreSync.Libp2p.Noise;
using StoreSync.Libp2p.Noise.Protos;
using StoreSync.Libp2p.Yamux;
using StoreSync.Testing;

namespace StoreSync.Libp2p.Tests.Host;

/// <summary>A misbehaving peer loses its own connection, with a logged reason, in bounded time and memory; other peers are unaffected.</summary>
/// <remarks>Not parallel with other tests: one test lowers the yamux write-stall timeout, and the memory bound reads process-wide counters.</remarks>
[Collection(nameof(HostBadInputTests))]
[CollectionDefinition(nameof(HostBadInputTests), DisableParallelization = true)]
public sealed class HostBadInputTests : IDisposable
{
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    CancellationToken Timeout => _timeout.Token;
    static ISecurityProtocol Security => TestHosts.Security;

    public void Dispose() => _timeout.Dispose();

    static async Task<(Libp2pHost Server, Libp2pHost Client, Connection Good, CollectingLoggerFactory Logs)> SetupAsync(HostOptions? options = null)
    {
        var logs = new CollectingLoggerFactory();
        var server = await TestHosts.StartAsync(options ?? TestHosts.Options with { HandshakeTimeout = TimeSpan.FromSeconds(2) }, logs: logs);
        var client = await TestHosts.StartAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var good = await client.DialAsync(server.ListenAddresses[0], timeout.Token);
        await good.Identified.WaitAsync(timeout.Token);
        return (server, client, good, logs);
    }

    static async Task AssertStillServesAsync(Libp2pHost server, Libp2pHost client, Connection good)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
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
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], Timeout);
            await raw.Stream.WriteAsync(RandomNumberGenerator.GetBytes(4096), Timeout);
            Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
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
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], Timeout);
            await raw.Stream.WriteAsync(new byte[] { 0xff, 0xff, 0x03 }, Timeout); // announces a 64 KiB line
            Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
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
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], Timeout);
            await MultistreamSelect.SelectAsync(raw.Stream, [Security.ProtocolId], Timeout);
            // Announces a longer first message (Noise: u16 0x2000; plaintext: uvarint 0x20) and sends only 3 bytes of it.
            await raw.Stream.WriteAsync(new byte[] { 0x20, 0x00, 1, 2, 3 }, Timeout);
            Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(15)));
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
            for (int i = 0; i < 3; i++) silent.Add(await RawPeer.ConnectAsync(server.ListenAddresses[0], Timeout));
            await logs.WaitForAsync("handshakes already pending", TimeSpan.FromSeconds(10));
            foreach (var s in silent) Assert.True(await s.WaitClosedAsync(TimeSpan.FromSeconds(15)));
            await logs.WaitForAsync("handshake not completed", TimeSpan.FromSeconds(10));
            foreach (var s in silent) await s.DisposeAsync();
            await AssertStillServesAsync(server, client, good);
        }
    }

    [Theory]
    [InlineData(KeyType.Ed25519)]
    [InlineData(KeyType.Secp256k1)]
    public async Task A_wrong_identity_signature_in_the_noise_handshake_closes_the_connection(KeyType identity)
    {
        var (server, client, good, logs) = await SetupAsync();
        await using (server) await using (client)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var ct = timeout.Token;
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], ct);
            await MultistreamSelect.SelectAsync(raw.Stream, [NoiseHandshake.ProtocolId], ct);
            // A well-formed XX initiator whose msg3 payload signs a different static key than the one it uses.
            using var state = new XxHandshakeState(initiator: true, X25519KeyPair.Generate(), X25519KeyPair.Generate());
            var message = new byte[NoiseHandshake.MaxMessageLength];
            await WriteNoiseFrameAsync(raw.Stream, message.AsSpan(0, state.WriteMessage1(message)).ToArray(), ct);
            state.ReadMessage2(await ReadNoiseFrameAsync(raw.Stream, ct));
            var key = IdentityKey.Generate(identity);
            var forged = new NoiseHandshakePayload
            {
                IdentityKey = ByteString.CopyFrom(key.PublicKey.ToProtobuf()),
                IdentitySig = ByteString.CopyFrom(key.Sign([.. "noise-libp2p-static-key:"u8, .. X25519KeyPair.Generate().Public])),
            }.ToByteArray();
            await WriteNoiseFrameAsync(raw.Stream, message.AsSpan(0, state.WriteMessage3(forged, message)).ToArray(), ct);
            Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains("during its handshake", await logs.WaitForAsync("identity signature does not verify", TimeSpan.FromSeconds(10)));
            Assert.DoesNotContain(server.Connections, c => c.RemotePeer == key.PeerId);
            await AssertStillServesAsync(server, client, good);
        }
    }

    static async Task<byte[]> ReadNoiseFrameAsync(Stream s, CancellationToken ct)
    {
        var prefix = new byte[2];
        await s.ReadExactlyAsync(prefix, ct);
        var body = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await s.ReadExactlyAsync(body, ct);
        return body;
    }

    static async Task WriteNoiseFrameAsync(Stream s, byte[] body, CancellationToken ct)
    {
        var frame = new byte[2 + body.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)body.Length);
        body.CopyTo(frame, 2);
        await s.WriteAsync(frame, ct);
        await s.FlushAsync(ct);
    }

    [Fact]
    public async Task A_stream_that_never_negotiates_is_reset_and_its_connection_stays()
    {
        var (server, client, good, logs) = await SetupAsync(TestHosts.Options with { StreamNegotiationTimeout = TimeSpan.FromSeconds(1) });
        await using (server) await using (client)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var ct = timeout.Token;
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], ct);
            await raw.UpgradeAsync(Security, ct);
            // Opens stream 1 and never sends a multistream header on it.
            await raw.Stream.WriteAsync(Frame(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0), ct);
            await raw.Stream.FlushAsync(ct);
            await ReadUntilAsync(raw.Stream, h => h.StreamId == 1 && h.Flags.HasFlag(YamuxFlags.Rst), ct);
            await logs.WaitForAsync("(negotiating)", TimeSpan.FromSeconds(10));
            // The session itself is still served: a yamux ping is answered.
            await raw.Stream.WriteAsync(Frame(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 77), ct);
            await raw.Stream.FlushAsync(ct);
            await ReadUntilAsync(raw.Stream, h => h.Type == YamuxFrameType.Ping && h.Flags.HasFlag(YamuxFlags.Ack) && h.Length == 77, ct);
            await AssertStillServesAsync(server, client, good);
        }
    }

    /// <summary>Reads yamux frames (skipping Data payloads) until one matches; bounded by count and <paramref name="ct"/>.</summary>
    static async Task ReadUntilAsync(Stream s, Func<YamuxFrameHeader, bool> match, CancellationToken ct)
    {
        var header = new byte[YamuxFrameHeader.Size];
        var skip = new byte[64 * 1024];
        for (int i = 0; i < 10_000; i++)
        {
            await s.ReadExactlyAsync(header, ct);
            var h = YamuxFrameHeader.Read(header);
            if (h.Type == YamuxFrameType.Data)
                for (long left = h.Length; left > 0;)
                {
                    int n = (int)Math.Min(left, skip.Length);
                    await s.ReadExactlyAsync(skip.AsMemory(0, n), ct);
                    left -= n;
                }
            if (match(h)) return;
        }
        throw new InvalidOperationException("no matching frame in 10,000");
    }

    [Fact]
    public async Task An_oversized_yamux_frame_closes_only_that_connection_without_allocating_it()
    {
        var (server, client, good, logs) = await SetupAsync();
        await using (server) await using (client)
        {
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], Timeout);
            await raw.UpgradeAsync(Security, Timeout);
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await raw.Stream.WriteAsync(Frame(YamuxFrameType.Data, YamuxFlags.Syn, 1, 0xffff_fff0), Timeout);
            await raw.Stream.FlushAsync(Timeout);
            Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
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
            await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], Timeout);
            await raw.UpgradeAsync(Security, Timeout);
            var negotiation = new byte[256];
            int length = MultistreamMessage.Encode(negotiation, MultistreamSelect.ProtocolId);
            length += MultistreamMessage.Encode(negotiation.AsSpan(length), "/storesync/test/hold/1.0.0");
            var open = Frame(YamuxFrameType.Data, YamuxFlags.Syn, 1, (uint)length, length);
            negotiation.AsSpan(0, length).CopyTo(open.AsSpan(YamuxFrameHeader.Size));
            await raw.Stream.WriteAsync(open, Timeout);
            int window = TestHosts.Options.Yamux.ReceiveWindow;
            for (int sent = 0; sent < window; sent += window / 2)
                await raw.Stream.WriteAsync(Frame(YamuxFrameType.Data, YamuxFlags.None, 1, (uint)(window / 2), window / 2), Timeout);
            await raw.Stream.FlushAsync(Timeout);
            Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
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
                await using var raw = await RawPeer.ConnectAsync(server.ListenAddresses[0], Timeout);
                await raw.UpgradeAsync(Security, Timeout);
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
