namespace StoreSync.Libp2p.WebSocket;

/// <summary>The HTTP upgrade to WebSocket failed; on a listener, <see cref="Status"/> is the HTTP status it answered with.</summary>
public sealed class WebSocketHandshakeException(int status, string reason) : IOException($"websocket upgrade refused ({status}): {reason}")
{
    public int Status { get; } = status;

    public string Reason { get; } = reason;
}
