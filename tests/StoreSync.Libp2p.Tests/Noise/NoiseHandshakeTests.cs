using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Noise;
using StoreSync.Testing.Libp2p;

namespace StoreSync.Libp2p.Tests.Noise;

/// <summary>Our initiator against our responder over loopback TCP and in-memory pipes, then bulk data both ways.</summary>
public class NoiseHandshakeTests
{
    private const int BulkBytes = 16 * 1024 * 1024;

    [Theory]
    [InlineData(KeyType.Ed25519, KeyType.Ed25519)]
    [InlineData(KeyType.Secp256k1, KeyType.Secp256k1)]
    [InlineData(KeyType.Ed25519, KeyType.Secp256k1)]
    public async Task Loopback_tcp_handshake_then_16_MiB_each_way(KeyType initiatorType, KeyType responderType)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var initiatorKey = IdentityKey.Generate(initiatorType);
        var responderKey = IdentityKey.Generate(responderType);
        var (client, server) = await ConnectLoopbackAsync(timeout.Token);

        var responding = Task.Run(() => NoiseHandshake.RespondAsync(server, responderKey, timeout.Token));
        await using var initiator = await NoiseHandshake.InitiateAsync(client, initiatorKey, responderKey.PeerId, timeout.Token);
        await using var responder = await responding;

        Assert.Equal(responderKey.PeerId, initiator.RemotePeer);
        Assert.Equal(responderKey.PublicKey, initiator.RemotePublicKey);
        Assert.Equal(initiatorKey.PeerId, responder.RemotePeer);
        Assert.Equal(initiatorKey.PublicKey, responder.RemotePublicKey);

        await ExchangeAsync(initiator, responder, RandomNumberGenerator.GetBytes(BulkBytes), RandomNumberGenerator.GetBytes(BulkBytes),
            writeChunk: 100_000, readChunk: 70_000, timeout.Token);
    }

    [Fact]
    public async Task In_memory_16_MiB_each_way_in_1_MiB_messages()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (initiator, responder) = await NoisePair.ConnectAsync(timeout.Token);
        await using var _ = initiator;
        await using var __ = responder;
        // Its throughput is measured by the benchmarks' secure-channel command, not here.
        await ExchangeAsync(initiator, responder, RandomNumberGenerator.GetBytes(BulkBytes), RandomNumberGenerator.GetBytes(BulkBytes),
            writeChunk: 1 << 20, readChunk: 1 << 20, timeout.Token);
    }

    [Fact]
    public async Task Reads_smaller_than_a_message_and_sync_io_see_the_same_bytes()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (initiator, responder) = await NoisePair.ConnectAsync(timeout.Token);
        await using var _ = initiator;
        await using var __ = responder;
        var data = RandomNumberGenerator.GetBytes(200_000);
        var writing = Task.Run(() =>
        {
            initiator.Write(data, 0, data.Length);
            initiator.Write([], 0, 0);
            initiator.Flush();
        });
        var received = new byte[data.Length];
        int total = 0;
        // Bounded: every pass reads at least one byte or the test fails on the EOF check.
        while (total < data.Length)
        {
            int n = total % 2 == 0 ? responder.Read(received, total, Math.Min(7, data.Length - total))
                : await responder.ReadAsync(received.AsMemory(total, Math.Min(65_000, data.Length - total)), timeout.Token);
            Assert.True(n > 0, "unexpected end of stream");
            total += n;
        }
        await writing;
        Assert.Equal(data, received);
    }

    [Fact]
    public async Task Empty_transport_messages_are_skipped_not_read_as_end_of_stream()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (a, b) = DuplexPipe.Create();
        var (initiator, responder) = await NoisePair.ConnectAsync(a, b, timeout.Token);
        await using var _ = initiator;
        await using var __ = responder;
        // A peer may send a message with an empty plaintext (js never does, the spec allows it).
        await a.WriteAsync(ForgeFrame(initiator, []), timeout.Token);
        await initiator.WriteAsync(new byte[] { 42 }, timeout.Token);
        var one = new byte[1];
        Assert.Equal(1, await responder.ReadAsync(one, timeout.Token));
        Assert.Equal(42, one[0]);
    }

    [Fact]
    public async Task Clean_close_is_end_of_stream_and_a_torn_message_is_an_error()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (a, b) = DuplexPipe.Create();
        var (initiator, responder) = await NoisePair.ConnectAsync(a, b, timeout.Token);
        await using var _ = responder;
        await initiator.WriteAsync(new byte[10], timeout.Token);
        await a.WriteAsync(new byte[] { 0x00, 0x40, 1, 2, 3 }, timeout.Token); // 64 bytes announced, 3 sent
        await initiator.DisposeAsync();
        var buffer = new byte[100];
        Assert.Equal(10, await responder.ReadAsync(buffer, timeout.Token));
        var e = await Assert.ThrowsAsync<IOException>(() => ReadOnceAsync(responder, buffer, timeout.Token));
        Assert.Contains("closed inside a transport message", e.Message);
    }

    [Fact]
    public async Task Tampered_transport_message_fails_authentication()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (a, b) = DuplexPipe.Create();
        var (initiator, responder) = await NoisePair.ConnectAsync(a, b, timeout.Token);
        await using var _ = initiator;
        await using var __ = responder;
        var frame = ForgeFrame(initiator, new byte[4]);
        frame[5] ^= 0x80;
        await a.WriteAsync(frame, timeout.Token);
        var e = await Assert.ThrowsAsync<IOException>(() => ReadOnceAsync(responder, new byte[10], timeout.Token));
        Assert.Contains("failed authentication", e.Message);
    }

    [Fact]
    public async Task Nonce_space_ends_the_session_after_2_pow_64_minus_1_messages()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (initiator, responder) = await NoisePair.ConnectAsync(timeout.Token);
        await using var _ = initiator;
        await using var __ = responder;
        initiator.SendCipher.Nonce = ulong.MaxValue - 1;
        responder.ReceiveCipher.Nonce = ulong.MaxValue - 1;
        await initiator.WriteAsync(new byte[] { 7 }, timeout.Token);
        var one = new byte[1];
        Assert.Equal(1, await responder.ReadAsync(one, timeout.Token));
        var e = await Assert.ThrowsAsync<IOException>(async () => await initiator.WriteAsync(new byte[] { 8 }, timeout.Token));
        Assert.Contains("nonce space exhausted", e.Message);
    }

    [Fact]
    public async Task Concurrent_reads_are_refused_and_disposed_channels_throw()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // Over TCP: disposing a socket stream aborts its pending read, which an in-memory pipe does not do.
        var (client, server) = await ConnectLoopbackAsync(timeout.Token);
        var (initiator, responder) = await NoisePair.ConnectAsync(client, server, timeout.Token);
        await using var _ = initiator;
        var pending = responder.ReadAsync(new byte[10], timeout.Token);
        await Assert.ThrowsAsync<InvalidOperationException>(() => ReadOnceAsync(responder, new byte[10], timeout.Token));
        await responder.DisposeAsync();
        // The aborted socket read either reports end of stream or fails, depending on which the OS reports first.
        try
        {
            Assert.Equal(0, await pending);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
        await Assert.ThrowsAsync<ObjectDisposedException>(() => ReadOnceAsync(responder, new byte[10], timeout.Token));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await responder.WriteAsync(new byte[10], timeout.Token));
    }

    /// <summary>A transport message built with the channel's own send cipher, written around the channel.</summary>
    private static byte[] ForgeFrame(SecureChannel sender, byte[] plaintext)
    {
        var frame = new byte[2 + plaintext.Length + 16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)(plaintext.Length + 16));
        sender.SendCipher.Encrypt([], plaintext, frame.AsSpan(2));
        return frame;
    }

    private static Task<int> ReadOnceAsync(Stream s, byte[] buffer, CancellationToken ct) => s.ReadAsync(buffer, ct).AsTask();

    private static async Task<(Stream Client, Stream Server)> ConnectLoopbackAsync(CancellationToken ct)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        var accepting = listener.AcceptTcpClientAsync(ct).AsTask();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint, ct);
        var server = await accepting;
        server.NoDelay = true;
        return (client.GetStream(), server.GetStream());
    }

    /// <summary>Sends both arrays at once, one each way, and checks both sides receive them intact.</summary>
    private static async Task ExchangeAsync(SecureChannel a, SecureChannel b, byte[] fromA, byte[] fromB, int writeChunk, int readChunk, CancellationToken ct)
    {
        await Task.WhenAll(
            Task.Run(() => WriteAllAsync(a, fromA, writeChunk, ct), ct),
            Task.Run(() => WriteAllAsync(b, fromB, writeChunk, ct), ct),
            Task.Run(() => ExpectAsync(b, fromA, readChunk, ct), ct),
            Task.Run(() => ExpectAsync(a, fromB, readChunk, ct), ct));
    }

    private static async Task WriteAllAsync(Stream s, byte[] data, int chunk, CancellationToken ct)
    {
        for (int o = 0; o < data.Length; o += chunk)
            await s.WriteAsync(data.AsMemory(o, Math.Min(chunk, data.Length - o)), ct);
        await s.FlushAsync(ct);
    }

    private static async Task ExpectAsync(Stream s, byte[] expected, int chunk, CancellationToken ct)
    {
        var received = new byte[expected.Length];
        int total = 0;
        while (total < received.Length)
        {
            int n = await s.ReadAsync(received.AsMemory(total, Math.Min(chunk, received.Length - total)), ct);
            if (n == 0) throw new EndOfStreamException($"stream ended after {total} of {expected.Length} bytes");
            total += n;
        }
        Assert.True(expected.AsSpan().SequenceEqual(received), "received bytes differ from the sent bytes");
    }
}
