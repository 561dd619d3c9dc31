using StoreSync.Libp2p.Yamux;

namespace StoreSync.Libp2p.Host;

/// <summary>Identity-independent settings of a <see cref="Libp2pHost"/>: agent string, connection manager limits and timeouts.</summary>
public sealed record HostOptions
{
    /// <summary>The connection security protocol: <see cref="Noise.NoiseSecurity"/> in the node; tests may plug in plaintext.</summary>
    public required ISecurityProtocol Security { get; init; }

    /// <summary>Sent in identify as agentVersion.</summary>
    public string AgentVersion { get; init; } = "storesync/0.1";

    /// <summary>Open connections (both directions); an inbound connection beyond it is closed at once, a dial beyond it fails.</summary>
    public int MaxConnections { get; init; } = 50;

    /// <summary>Inbound connections still in their handshake; a flood of silent TCP connections cannot exceed it.</summary>
    public int MaxPendingHandshakes { get; init; } = 64;

    /// <summary>Open yamux streams per connection, both directions (the yamux session refuses more with RST).</summary>
    public int MaxStreamsPerConnection { get; init; } = 256;

    /// <summary>Inbound streams whose handlers run at once on one connection; more are reset.</summary>
    public int MaxInboundStreamsPerConnection { get; init; } = 128;

    /// <summary>From TCP connect/accept to a ready yamux session (TLS and the HTTP upgrade of /ws and /wss, security, muxer negotiation).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>multistream-select on a new stream; a peer that opens streams and never negotiates cannot pin them.</summary>
    public TimeSpan StreamNegotiationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A connection without open streams for this long is closed; <see cref="Timeout.InfiniteTimeSpan"/> keeps it.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>TCP connect timeout of a dial (the handshake timeout follows it).</summary>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long identify of a new connection may take before it is given up (the connection stays).</summary>
    public TimeSpan IdentifyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Kernel socket send/receive buffer per connection; large buffers let one stream fill a fast link.</summary>
    public int SocketBufferSize { get; init; } = 1024 * 1024;

    /// <summary>TCP listen backlog.</summary>
    public int ListenBacklog { get; init; } = 512;

    /// <summary>Limits of /ws and /wss connections and the certificate a /wss listener presents.</summary>
    public WebSocket.WebSocketOptions WebSocket { get; init; } = new();

    /// <summary>Yamux windows, frame size and keep-alive (MaxStreams is replaced by <see cref="MaxStreamsPerConnection"/>).</summary>
    public YamuxOptions Yamux { get; init; } = new();
}
