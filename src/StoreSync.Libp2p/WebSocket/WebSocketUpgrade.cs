using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace StoreSync.Libp2p.WebSocket;

/// <summary>The WebSocket opening handshake (RFC 6455 §4): the HTTP/1.1 upgrade a dialer sends and a listener answers with 101.</summary>
/// <remarks>No subprotocol and no extension is negotiated (js-libp2p uses none; refusing permessage-deflate keeps frames
/// uncompressed, so RSV bits stay protocol errors). The caller bounds the time (the host's handshake timeout).</remarks>
internal static class WebSocketUpgrade
{
    const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>Reads the client's upgrade request and answers 101, or answers the refusal's status and throws.</summary>
    /// <returns>Bytes the client sent after its request (already WebSocket frames).</returns>
    public static async Task<byte[]> AcceptAsync(Stream stream, WebSocketOptions options, CancellationToken ct)
    {
        try
        {
            var (head, leftover) = await HttpHead.ReadAsync(stream, options.MaxHandshakeBytes, options.MaxHeaderLines, ct).ConfigureAwait(false);
            var key = CheckRequest(head);
            var response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Accept: {AcceptFor(key)}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(response), ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);
            return leftover;
        }
        catch (WebSocketHandshakeException refused)
        {
            await RefuseAsync(stream, refused, ct).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Checks an upgrade request; returns its Sec-WebSocket-Key.</summary>
    internal static string CheckRequest(HttpHead head)
    {
        var parts = head.StartLine.Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/", StringComparison.Ordinal)) throw new WebSocketHandshakeException(400, "not an HTTP request line");
        if (parts[0] != "GET") throw new WebSocketHandshakeException(405, $"method {Shorten(parts[0])}: a WebSocket upgrade is a GET");
        if (parts[2] != "HTTP/1.1") throw new WebSocketHandshakeException(505, $"{Shorten(parts[2])}: a WebSocket upgrade is HTTP/1.1");
        if (head["Host"] is null) throw new WebSocketHandshakeException(400, "no Host header");
        if (!head.HasToken("Upgrade", "websocket")) throw new WebSocketHandshakeException(426, "no Upgrade: websocket header (this port speaks libp2p over WebSocket only)");
        if (!head.HasToken("Connection", "Upgrade")) throw new WebSocketHandshakeException(426, "no Connection: Upgrade header");
        if (head["Sec-WebSocket-Version"] != "13") throw new WebSocketHandshakeException(426, "Sec-WebSocket-Version must be 13");
        var key = head["Sec-WebSocket-Key"];
        Span<byte> nonce = stackalloc byte[24];
        if (key is null || !Convert.TryFromBase64String(key, nonce, out int length) || length != 16)
            throw new WebSocketHandshakeException(400, "Sec-WebSocket-Key is not 16 bytes in base64");
        return key;
    }

    /// <summary>Sends the upgrade request and checks the server's 101 answer.</summary>
    /// <param name="host">The Host header value (host:port).</param>
    /// <returns>Bytes the server sent after its answer (already WebSocket frames).</returns>
    public static async Task<byte[]> ConnectAsync(Stream stream, string host, WebSocketOptions options, CancellationToken ct)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = $"GET {options.Path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), ct).ConfigureAwait(false);
        await stream.FlushAsync(ct).ConfigureAwait(false);
        var (head, leftover) = await HttpHead.ReadAsync(stream, options.MaxHandshakeBytes, options.MaxHeaderLines, ct).ConfigureAwait(false);
        var parts = head.StartLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/", StringComparison.Ordinal)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int status))
            throw new WebSocketHandshakeException(0, "the server's answer is not an HTTP status line");
        if (status != 101) throw new WebSocketHandshakeException(status, $"the server answered '{Shorten(head.StartLine)}' instead of 101");
        if (!head.HasToken("Upgrade", "websocket") || !head.HasToken("Connection", "Upgrade"))
            throw new WebSocketHandshakeException(status, "the server's 101 lacks Upgrade: websocket or Connection: Upgrade");
        if (head["Sec-WebSocket-Accept"] != AcceptFor(key)) throw new WebSocketHandshakeException(status, "Sec-WebSocket-Accept does not match our key");
        if (head["Sec-WebSocket-Extensions"] is not null || head["Sec-WebSocket-Protocol"] is not null)
            throw new WebSocketHandshakeException(status, "the server chose an extension or subprotocol we did not offer");
        return leftover;
    }

    /// <summary>base64(SHA-1(key + the RFC 6455 GUID)), the proof a server sends that it read the key.</summary>
    public static string AcceptFor(string key) => Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));

    static async Task RefuseAsync(Stream stream, WebSocketHandshakeException refused, CancellationToken ct)
    {
        var reason = refused.Status switch
        {
            400 => "Bad Request",
            405 => "Method Not Allowed",
            426 => "Upgrade Required",
            431 => "Request Header Fields Too Large",
            505 => "HTTP Version Not Supported",
            _ => "Error",
        };
        var extra = refused.Status switch
        {
            405 => "Allow: GET\r\n",
            426 => "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n",
            _ => "",
        };
        var body = refused.Reason + "\n";
        var response = $"HTTP/1.1 {refused.Status} {reason}\r\n{extra}Content-Type: text/plain\r\nContent-Length: {Encoding.ASCII.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(response), ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { } // the refusal stands either way
    }

    // Only ASCII reaches the refusal text: what the peer sent is cut short and stripped of control characters.
    static string Shorten(string s) => new([.. s.Take(40).Select(c => c is >= ' ' and < (char)0x7f ? c : '?')]);
}
