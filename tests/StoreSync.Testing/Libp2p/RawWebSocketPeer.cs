using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Transports;

namespace StoreSync.Testing.Libp2p;

/// <summary>A hand-driven WebSocket client on a raw TCP socket: sends any HTTP head and any frame (masked or not, any
/// opcode, any claimed length) and reads the server's answer and frames as bytes.</summary>
public sealed class RawWebSocketPeer : IAsyncDisposable
{
    readonly Socket _socket;
    readonly NetworkStream _stream;

    RawWebSocketPeer(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    public static async Task<RawWebSocketPeer> ConnectAsync(Multiaddr address, CancellationToken ct)
    {
        var target = TransportAddress.Parse(address);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(target.Host, target.Port, ct);
        return new RawWebSocketPeer(socket);
    }

    public static string UpgradeRequest(string key = "dGhlIHNhbXBsZSBub25jZQ==") =>
        $"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";

    public async Task SendAsync(string text, CancellationToken ct) => await _stream.WriteAsync(Encoding.ASCII.GetBytes(text), ct);

    public async Task SendAsync(byte[] bytes, CancellationToken ct) => await _stream.WriteAsync(bytes, ct);

    /// <summary>The server's HTTP head (up to the blank line), or what it sent before closing.</summary>
    public async Task<string> ReadHeadAsync(CancellationToken ct)
    {
        var head = new MemoryStream();
        var one = new byte[1];
        for (int i = 0; i < 64 * 1024; i++)
        {
            if (await ReadSomeAsync(one, ct) == 0) break;
            head.WriteByte(one[0]);
            var b = head.GetBuffer();
            if (head.Length >= 4 && b[head.Length - 4] == '\r' && b[head.Length - 3] == '\n' && b[head.Length - 2] == '\r' && b[head.Length - 1] == '\n') break;
        }
        return Encoding.ASCII.GetString(head.ToArray());
    }

    /// <summary>Sends the standard upgrade request and checks the 101.</summary>
    public async Task UpgradeAsync(CancellationToken ct)
    {
        await SendAsync(UpgradeRequest(), ct);
        var head = await ReadHeadAsync(ct);
        // RFC 6455 §1.3's example key and answer.
        if (!head.StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal) || !head.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", StringComparison.Ordinal))
            throw new InvalidDataException("no 101 with the RFC's accept value: " + head);
    }

    /// <summary>One frame: <paramref name="first"/> is the FIN/RSV/opcode byte; a claimed length other than the payload's may be written.</summary>
    public static byte[] Frame(byte first, ReadOnlySpan<byte> payload, bool mask = true, long? claimedLength = null)
    {
        long length = claimedLength ?? payload.Length;
        var frame = new MemoryStream();
        frame.WriteByte(first);
        byte maskBit = mask ? (byte)0x80 : (byte)0;
        if (length < 126) frame.WriteByte((byte)(maskBit | length));
        else if (length <= ushort.MaxValue)
        {
            frame.WriteByte((byte)(maskBit | 126));
            Span<byte> l = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(l, (ushort)length);
            frame.Write(l);
        }
        else
        {
            frame.WriteByte((byte)(maskBit | 127));
            Span<byte> l = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(l, (ulong)length);
            frame.Write(l);
        }
        var key = mask ? RandomNumberGenerator.GetBytes(4) : [];
        frame.Write(key);
        var body = payload.ToArray();
        if (mask) for (int i = 0; i < body.Length; i++) body[i] ^= key[i & 3];
        frame.Write(body);
        return frame.ToArray();
    }

    /// <summary>Reads server frames until a close frame (returns its status code, 1005 if it has none) or the end of the connection (null).</summary>
    public async Task<int?> ReadUntilCloseAsync(CancellationToken ct)
    {
        try
        {
            for (int i = 0; i < 100_000; i++)
            {
                var frame = await ReadFrameAsync(ct);
                if (frame is null) return null;
                if (frame.Value.Opcode == 0x8) return frame.Value.Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(frame.Value.Payload) : 1005;
            }
            return null;
        }
        catch (Exception e) when (e is IOException or SocketException) { return null; }
    }

    /// <summary>The next server frame, or null when the connection ended.</summary>
    public async Task<(int Opcode, bool Fin, byte[] Payload)?> ReadFrameAsync(CancellationToken ct)
    {
        var header = new byte[2];
        if (!await ReadExactlyAsync(header, ct)) return null;
        long length = header[1] & 0x7f;
        if ((header[1] & 0x80) != 0) throw new InvalidDataException("a masked server frame (a server never masks)");
        if (length == 126)
        {
            var l = new byte[2];
            if (!await ReadExactlyAsync(l, ct)) return null;
            length = BinaryPrimitives.ReadUInt16BigEndian(l);
        }
        else if (length == 127)
        {
            var l = new byte[8];
            if (!await ReadExactlyAsync(l, ct)) return null;
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(l);
        }
        if (length is < 0 or > 16 * 1024 * 1024) throw new InvalidDataException($"a server frame of {length} bytes");
        var payload = new byte[length];
        if (!await ReadExactlyAsync(payload, ct)) return null;
        return (header[0] & 0x0f, (header[0] & 0x80) != 0, payload);
    }

    /// <summary>Whether the server closes the TCP connection within <paramref name="within"/> (reading and discarding meanwhile).</summary>
    public async Task<bool> WaitClosedAsync(TimeSpan within)
    {
        using var bound = new CancellationTokenSource(within);
        var buffer = new byte[16 * 1024];
        try
        {
            for (int i = 0; i < 1_000_000; i++)
                if (await ReadSomeAsync(buffer, bound.Token) == 0) return true;
            return false;
        }
        catch (OperationCanceledException) { return false; }
        catch (Exception e) when (e is IOException or SocketException) { return true; }
    }

    async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken ct)
    {
        for (int at = 0; at < buffer.Length;)
        {
            int n = await ReadSomeAsync(buffer.AsMemory(at), ct);
            if (n == 0) return false;
            at += n;
        }
        return true;
    }

    Task<int> ReadSomeAsync(Memory<byte> buffer, CancellationToken ct) => _stream.ReadAsync(buffer, ct).AsTask();

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
