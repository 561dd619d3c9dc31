using System.Net.WebSockets;
using StoreSync.Core.Wire;

namespace StoreSync.Libp2p.WebSocket;

/// <summary>The libp2p byte stream carried by binary WebSocket messages: what is written goes out as binary messages, what
/// arrives in binary messages (of any fragmentation) is read back in order; message boundaries mean nothing.</summary>
/// <remarks>Framing, masking and control frames are System.Net.WebSockets' (it closes with 1002 on reserved opcodes, RSV bits,
/// an unmasked client frame, a fragmented or over-long control frame); this class adds what it leaves to the application:
/// a text message is refused with 1003, a message over <see cref="WebSocketOptions.MaxMessageBytes"/> with 1009, a run of
/// empty fragments with 1008. Each refusal closes the connection and surfaces as <see cref="ProtocolViolationException"/>.
/// One reader and one writer may run concurrently.</remarks>
internal sealed class WebSocketByteStream(System.Net.WebSockets.WebSocket socket, WebSocketOptions options) : DuplexStream
{
    static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(1);

    long _messageBytes;
    int _emptyFragments, _disposed;
    bool _closeReceived;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || _closeReceived) return 0;
        while (true)
        {
            ValueWebSocketReceiveResult result;
            try { result = await socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false); }
            catch (WebSocketException e) { throw Refused(e.WebSocketErrorCode == WebSocketError.ConnectionClosedPrematurely ? "connection closed" : e.Message, e); }
            switch (result.MessageType)
            {
                case WebSocketMessageType.Close:
                    _closeReceived = true;
                    await CloseQuietlyAsync(WebSocketCloseStatus.NormalClosure, "").ConfigureAwait(false);
                    return 0;
                case WebSocketMessageType.Text:
                    await CloseQuietlyAsync(WebSocketCloseStatus.InvalidMessageType, "libp2p uses binary messages").ConfigureAwait(false);
                    throw Refused("a text message: libp2p uses binary messages only");
            }
            _messageBytes += result.Count;
            if (_messageBytes > options.MaxMessageBytes)
            {
                await CloseQuietlyAsync(WebSocketCloseStatus.MessageTooBig, $"message over {options.MaxMessageBytes} bytes").ConfigureAwait(false);
                throw Refused($"a message over {options.MaxMessageBytes} bytes");
            }
            if (result.EndOfMessage)
            {
                _messageBytes = 0;
                _emptyFragments = 0;
            }
            else if (result.Count == 0 && ++_emptyFragments > options.MaxEmptyFragmentsPerMessage)
            {
                await CloseQuietlyAsync(WebSocketCloseStatus.PolicyViolation, "too many empty fragments").ConfigureAwait(false);
                throw Refused($"more than {options.MaxEmptyFragmentsPerMessage} empty fragments in one message");
            }
            if (result.Count > 0) return result.Count;
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            // Our messages stay within the size we accept ourselves (a Noise frame is far smaller; plaintext test stacks are not).
            while (!buffer.IsEmpty)
            {
                int n = Math.Min(buffer.Length, options.MaxMessageBytes);
                await socket.SendAsync(buffer[..n], WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
                buffer = buffer[n..];
            }
        }
        catch (WebSocketException e) { throw new IOException("websocket: " + e.Message, e); }
    }

    static ProtocolViolationException Refused(string reason, Exception? inner = null) => new("websocket: " + reason, inner);

    /// <summary>Sends our close frame (once), giving up after a second: a peer that reads nothing must not hold the close.</summary>
    async Task CloseQuietlyAsync(WebSocketCloseStatus status, string reason)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        using var timeout = new CancellationTokenSource(CloseTimeout);
        try { await socket.CloseOutputAsync(status, reason, timeout.Token).ConfigureAwait(false); }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException) { }
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await CloseQuietlyAsync(WebSocketCloseStatus.NormalClosure, "").ConfigureAwait(false);
        socket.Dispose(); // also disposes the stream below (TLS, TCP)
        GC.SuppressFinalize(this);
    }

    protected override void Dispose(bool disposing)
    {
        // The synchronous path (yamux's final close) cannot wait for a close frame: the TCP close tells the peer instead.
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0) socket.Dispose();
        base.Dispose(disposing);
    }
}
