using System.Text;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Tests.Host;
using StoreSync.Libp2p.WebSocket;
using StoreSync.Testing;
using StoreSync.Testing.Libp2p;

namespace StoreSync.Libp2p.Tests.WebSocket;

/// <summary>A live /ws listener refuses every malformed upgrade and frame clearly (an HTTP status or a close code, and a logged
/// reason), in bounded time, and keeps serving a well-behaved peer meanwhile.</summary>
public sealed class WebSocketBadInputTests : IAsyncLifetime
{
    // Far above anything the well-behaved peer sends in these tests (its identify is under 1 KiB); production allows 1 MiB.
    const int SmallMessageLimit = 16_384;
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    readonly CollectingLoggerFactory _logs = new();
    Libp2pHost _server = null!, _client = null!;
    Connection _good = null!;
    CancellationToken Timeout => _timeout.Token;

    public async Task InitializeAsync()
    {
        var options = TestHosts.Options with
        {
            HandshakeTimeout = TimeSpan.FromSeconds(2),
            WebSocket = new WebSocketOptions { MaxMessageBytes = SmallMessageLimit, MaxHandshakeBytes = 4096 },
        };
        _server = await TestHosts.StartAsync(options, logs: _logs, listen: "/ip4/127.0.0.1/tcp/0/ws");
        _client = await TestHosts.StartAsync();
        _good = await _client.DialAsync(_server.ListenAddresses[0], Timeout);
        await _good.Identified.WaitAsync(Timeout);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        _timeout.Dispose();
    }

    /// <summary>The well-behaved connection still echoes and pings.</summary>
    async Task AssertStillServesAsync()
    {
        Assert.False(_good.IsClosed);
        Assert.True(await _good.PingAsync(Timeout) >= TimeSpan.Zero);
        await using var stream = await _good.NewStreamAsync(TestHosts.EchoProtocol, Timeout);
        Assert.Equal([1, 2, 3], await TestHosts.EchoRoundTripAsync(stream, [1, 2, 3], () => stream.CloseWriteAsync(Timeout), Timeout));
    }

    async Task<RawWebSocketPeer> ConnectAsync() => await RawWebSocketPeer.ConnectAsync(_server.ListenAddresses[0], Timeout);

    async Task<RawWebSocketPeer> UpgradedAsync()
    {
        var raw = await ConnectAsync();
        await raw.UpgradeAsync(Timeout);
        return raw;
    }

    [Fact]
    public async Task A_plain_http_request_without_upgrade_gets_426_and_is_closed()
    {
        await using var raw = await ConnectAsync();
        await raw.SendAsync("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", Timeout);
        var head = await raw.ReadHeadAsync(Timeout);
        Assert.StartsWith("HTTP/1.1 426 Upgrade Required\r\n", head);
        Assert.Contains("Upgrade: websocket", head);
        Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("Upgrade: websocket", await _logs.WaitForAsync("websocket upgrade refused (426)", TimeSpan.FromSeconds(10)));
        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\n\r\n", "405 Method Not Allowed")]
    [InlineData("GET / HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "505 HTTP Version Not Supported")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", "426 Upgrade Required")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n", "400 Bad Request")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n folded: continuation\r\n\r\n", "400 Bad Request")]
    [InlineData("\u0016\u0003\u0001\u0002\u0000\u0001\r\n\r\n", "400 Bad Request")] // a TLS hello on the plain port
    public async Task A_malformed_upgrade_request_gets_its_http_status(string request, string status)
    {
        await using var raw = await ConnectAsync();
        await raw.SendAsync(request, Timeout);
        Assert.StartsWith($"HTTP/1.1 {status}\r\n", await raw.ReadHeadAsync(Timeout));
        Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task An_over_long_http_head_gets_431_after_at_most_the_limit()
    {
        await using var raw = await ConnectAsync();
        // 64 KiB of header bytes without an end: the listener stops reading at its 4 KiB bound and answers.
        var flood = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + new string('a', 64 * 1024);
        try { await raw.SendAsync(flood, Timeout); }
        catch (IOException) { } // the listener may close before it has all of it
        Assert.StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n", await raw.ReadHeadAsync(Timeout));
        Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
        await _logs.WaitForAsync("HTTP head longer than 4096 bytes", TimeSpan.FromSeconds(10));
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Too_many_header_lines_get_431()
    {
        await using var raw = await ConnectAsync();
        var request = new StringBuilder("GET / HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 70; i++) request.Append("X-").Append(i).Append(": y\r\n");
        await raw.SendAsync(request.Append("\r\n").ToString(), Timeout);
        Assert.StartsWith("HTTP/1.1 431 ", await raw.ReadHeadAsync(Timeout));
        Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_slow_upgrade_request_is_cut_off_by_the_handshake_timeout()
    {
        await using var raw = await ConnectAsync();
        await raw.SendAsync("GET / HTTP/1.1\r\nHost: 127.0", Timeout); // and then nothing
        Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(15)));
        await _logs.WaitForAsync("handshake not completed within 2 s", TimeSpan.FromSeconds(10));
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task A_text_frame_is_closed_with_1003()
    {
        await using var raw = await UpgradedAsync();
        await raw.SendAsync(RawWebSocketPeer.Frame(0x81, "/multistream/1.0.0\n"u8), Timeout);
        Assert.Equal(1003, await raw.ReadUntilCloseAsync(Timeout));
        Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
        await _logs.WaitForAsync("a text message", TimeSpan.FromSeconds(10));
        await AssertStillServesAsync();
    }

    [Theory]
    [InlineData((byte)0x83)] // reserved data opcode 3
    [InlineData((byte)0x8B)] // reserved control opcode 0xB
    [InlineData((byte)0xC2)] // RSV1 set without a negotiated extension
    public async Task A_reserved_opcode_or_bit_is_closed_with_1002(byte first)
    {
        await using var raw = await UpgradedAsync();
        await raw.SendAsync(RawWebSocketPeer.Frame(first, [1, 2, 3]), Timeout);
        Assert.Equal(1002, await raw.ReadUntilCloseAsync(Timeout));
        Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task A_fragmented_or_over_long_control_frame_is_closed_with_1002()
    {
        await using var raw = await UpgradedAsync();
        await raw.SendAsync(RawWebSocketPeer.Frame(0x89, new byte[126]), Timeout); // a ping with more than 125 bytes
        Assert.Equal(1002, await raw.ReadUntilCloseAsync(Timeout));
        await using var raw2 = await UpgradedAsync();
        await raw2.SendAsync(RawWebSocketPeer.Frame(0x09, [1]), Timeout); // a ping without FIN
        Assert.Equal(1002, await raw2.ReadUntilCloseAsync(Timeout));
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task An_oversized_message_is_closed_with_1009_after_at_most_the_limit()
    {
        await using var raw = await UpgradedAsync();
        // The frame claims 1 GiB; the listener reads no more than its limit of it before refusing. Its bytes are valid
        // multistream-select (proposals answered "na"), so nothing but the message size can end the connection; they end
        // with the line that crosses the limit, so the listener leaves nothing unread (which would reset the connection
        // before its close frame could be read here).
        await raw.SendAsync(RawWebSocketPeer.Frame(0x82, ValidBytes(SmallMessageLimit + 1), claimedLength: 1L << 30), Timeout);
        Assert.Equal(1009, await raw.ReadUntilCloseAsync(Timeout));
        Assert.True(await raw.WaitClosedAsync(TimeSpan.FromSeconds(10)));
        await _logs.WaitForAsync($"a message over {SmallMessageLimit} bytes", TimeSpan.FromSeconds(10));
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task An_oversized_message_in_many_fragments_is_closed_with_1009()
    {
        await using var raw = await UpgradedAsync();
        var bytes = ValidBytes(SmallMessageLimit + 1);
        const int Piece = 2000;
        await raw.SendAsync(RawWebSocketPeer.Frame(0x02, bytes.AsSpan(0, Piece)), Timeout); // binary, no FIN
        for (int at = Piece; at < bytes.Length; at += Piece) // continuations, no FIN
            await raw.SendAsync(RawWebSocketPeer.Frame(0x00, bytes.AsSpan(at, Math.Min(Piece, bytes.Length - at))), Timeout);
        Assert.Equal(1009, await raw.ReadUntilCloseAsync(Timeout));
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task A_fragmented_message_within_the_limit_is_one_stretch_of_the_byte_stream()
    {
        await using var raw = await UpgradedAsync();
        // multistream-select's header and a proposal of the security protocol, split across a binary frame, two
        // continuations and an interleaved ping, as RFC 6455 §5.4 allows: the listener must answer the proposal.
        var bytes = new List<byte>();
        foreach (var line in new[] { "/multistream/1.0.0\n", TestHosts.Security.ProtocolId + "\n" })
        {
            bytes.Add((byte)line.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(line));
        }
        var all = bytes.ToArray();
        await raw.SendAsync(RawWebSocketPeer.Frame(0x02, all.AsSpan(0, 5)), Timeout);
        await raw.SendAsync(RawWebSocketPeer.Frame(0x00, all.AsSpan(5, 10)), Timeout);
        await raw.SendAsync(RawWebSocketPeer.Frame(0x89, "hi"u8), Timeout); // a ping between fragments
        await raw.SendAsync(RawWebSocketPeer.Frame(0x80, all.AsSpan(15)), Timeout);
        var received = new List<byte>();
        bool ponged = false;
        var expected = Encoding.ASCII.GetBytes(TestHosts.Security.ProtocolId + "\n");
        for (int i = 0; i < 20 && !(ponged && ContainsSequence(received, expected)); i++)
        {
            var frame = await raw.ReadFrameAsync(Timeout);
            Assert.NotNull(frame);
            if (frame.Value.Opcode == 0xA) ponged = true;
            else if (frame.Value.Opcode == 0x2) received.AddRange(frame.Value.Payload);
            else Assert.Fail($"unexpected opcode {frame.Value.Opcode}");
        }
        Assert.True(ponged, "the ping between fragments is answered");
        Assert.True(ContainsSequence(received, expected), "the listener accepted the proposal sent in fragments");
    }

    [Fact]
    public async Task A_run_of_empty_fragments_is_closed_with_1008()
    {
        await using var raw = await UpgradedAsync();
        await raw.SendAsync(RawWebSocketPeer.Frame(0x02, []), Timeout);
        for (int i = 0; i < 40; i++) await raw.SendAsync(RawWebSocketPeer.Frame(0x00, []), Timeout);
        Assert.Equal(1008, await raw.ReadUntilCloseAsync(Timeout));
    }

    [Fact]
    public async Task Silent_websocket_connections_are_bounded_by_the_pending_handshake_limit()
    {
        await using var server = await TestHosts.StartAsync(TestHosts.Options with { MaxPendingHandshakes = 2, HandshakeTimeout = TimeSpan.FromSeconds(20) },
            logs: _logs, listen: "/ip4/127.0.0.1/tcp/0/ws");
        var silent = new List<RawWebSocketPeer>();
        try
        {
            for (int i = 0; i < 2; i++) silent.Add(await RawWebSocketPeer.ConnectAsync(server.ListenAddresses[0], Timeout));
            await using var third = await RawWebSocketPeer.ConnectAsync(server.ListenAddresses[0], Timeout);
            Assert.True(await third.WaitClosedAsync(TimeSpan.FromSeconds(10)));
            await _logs.WaitForAsync("2 handshakes already pending", TimeSpan.FromSeconds(10));
        }
        finally
        {
            foreach (var s in silent) await s.DisposeAsync();
        }
    }

    /// <summary>At least <paramref name="length"/> bytes of well-formed multistream-select: the header, then proposals of
    /// unknown protocols, each under the 1 KiB line limit (a listener answers up to 64 of them with "na").</summary>
    static byte[] ValidBytes(int length)
    {
        var bytes = new List<byte>();
        void Line(string line)
        {
            var utf8 = Encoding.ASCII.GetBytes(line + "\n");
            Span<byte> prefix = stackalloc byte[10];
            bytes.AddRange(prefix[..StoreSync.Core.Wire.Varint.Write(prefix, (ulong)utf8.Length)].ToArray());
            bytes.AddRange(utf8);
        }
        Line("/multistream/1.0.0");
        for (int i = 0; bytes.Count < length; i++) Line($"/unknown/{i}/" + new string('x', 900));
        return [.. bytes];
    }

    static bool ContainsSequence(List<byte> haystack, byte[] needle) =>
        haystack.Count >= needle.Length && Enumerable.Range(0, haystack.Count - needle.Length + 1).Any(i => haystack.Skip(i).Take(needle.Length).SequenceEqual(needle));
}
