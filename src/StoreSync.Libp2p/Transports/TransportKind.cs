namespace StoreSync.Libp2p.Transports;

/// <summary>The layers a connection has between TCP and multistream-select.</summary>
public enum TransportKind
{
    /// <summary><c>/tcp</c>: libp2p directly on the TCP byte stream.</summary>
    Tcp,

    /// <summary><c>/tcp/…/ws</c>: an HTTP/1.1 upgrade, then binary WebSocket messages carry the byte stream (RFC 6455).</summary>
    WebSocket,

    /// <summary><c>/tcp/…/wss</c> (also written <c>/tls/ws</c>): the same WebSocket inside TLS.</summary>
    SecureWebSocket,
}
