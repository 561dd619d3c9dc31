using System.Buffers;
using System.Text;

namespace StoreSync.Libp2p.WebSocket;

/// <summary>One HTTP/1.1 message head (start line and header fields) as the WebSocket opening handshake needs it
/// (RFC 6455 §4, RFC 9112 §2–5), read within a byte and a line bound.</summary>
internal sealed class HttpHead
{
    static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    readonly List<KeyValuePair<string, string>> _fields;

    HttpHead(string startLine, List<KeyValuePair<string, string>> fields)
    {
        StartLine = startLine;
        _fields = fields;
    }

    public string StartLine { get; }

    /// <summary>The value of the first field of that name (names compare case-insensitively), or null.</summary>
    public string? this[string name] => _fields.FirstOrDefault(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>True when some field of that name lists <paramref name="token"/> among its comma-separated values (case-insensitively).</summary>
    public bool HasToken(string name, string token) =>
        _fields.Where(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase))
            .SelectMany(f => f.Value.Split(',', StringSplitOptions.TrimEntries))
            .Any(t => string.Equals(t, token, StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads up to and including the blank line that ends the head; bytes read past it (the first WebSocket frames,
    /// when a peer does not wait) are returned as <c>Leftover</c>.</summary>
    /// <exception cref="WebSocketHandshakeException">431 when the head exceeds the bounds, 400 when it is not HTTP/1.1 syntax.</exception>
    /// <exception cref="EndOfStreamException">The peer closed before the head ended.</exception>
    public static async Task<(HttpHead Head, byte[] Leftover)> ReadAsync(Stream stream, int maxBytes, int maxLines, CancellationToken ct)
    {
        // Rented once for the whole head: a slow peer sending a byte at a time costs one read per byte, never more memory.
        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            int filled = 0;
            while (true)
            {
                if (filled == maxBytes) throw new WebSocketHandshakeException(431, $"HTTP head longer than {maxBytes} bytes");
                int read = await stream.ReadAsync(buffer.AsMemory(filled, maxBytes - filled), ct).ConfigureAwait(false);
                if (read == 0) throw new EndOfStreamException($"connection closed after {filled} bytes of the HTTP upgrade");
                int searchFrom = Math.Max(0, filled - 3);
                filled += read;
                int end = buffer.AsSpan(searchFrom, filled - searchFrom).IndexOf(EndOfHead);
                if (end < 0) continue;
                end += searchFrom + EndOfHead.Length;
                var head = Parse(buffer.AsSpan(0, end - 2), maxLines); // without the final blank line's CRLF
                return (head, buffer.AsSpan(end, filled - end).ToArray());
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    static HttpHead Parse(ReadOnlySpan<byte> bytes, int maxLines)
    {
        // Field values are octets (RFC 9110 §5.5); Latin-1 maps each to one char, so nothing can fail to decode.
        var text = Encoding.Latin1.GetString(bytes);
        var lines = text.Split("\r\n");
        if (lines.Length - 2 > maxLines) throw new WebSocketHandshakeException(431, $"more than {maxLines} header lines");
        var fields = new List<KeyValuePair<string, string>>(lines.Length);
        for (int i = 1; i < lines.Length - 1; i++)
        {
            var line = lines[i];
            if (line.Length > 0 && (line[0] == ' ' || line[0] == '\t')) throw new WebSocketHandshakeException(400, "obsolete line folding in a header");
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !IsToken(line.AsSpan(0, colon))) throw new WebSocketHandshakeException(400, "malformed header line");
            fields.Add(new(line[..colon], line[(colon + 1)..].Trim(' ', '\t')));
        }
        if (lines[^1].Length != 0) throw new WebSocketHandshakeException(400, "malformed end of the HTTP head");
        return new HttpHead(lines[0], fields);
    }

    static bool IsToken(ReadOnlySpan<char> name)
    {
        foreach (var c in name)
            if (c <= ' ' || c >= 0x7f || "\"(),/:;<=>?@[\\]{}".Contains(c)) return false;
        return true;
    }
}
