using StoreSync.Libp2p.Yamux;

namespace StoreSync.Libp2p.Host;

/// <summary>Settings and limits of a <see cref="Libp2pHost"/>: the connection manager's bounds live here.</summary>
public sealed record HostOptions
{
    /// <summary>The connection security protocol (Noise in production).</summary>
    public required ISecurityProtocol Security { get; init; }

    public string AgentVersion { get; init; } = "storesync/0.1";

    /// <summary>Open connections, inbound and outbound; an inbound connection beyond it is closed at once.</summary>
    public int MaxConnections { get; init; } = 50;

    /// <summary>Streams per connection (yamux MaxStreams).</summary>
    public int MaxStreamsPerConnection { get; init; } = 256;

    /// <summary>Time for TCP connect, multistream, security and muxer negotiation together.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time to negotiate a protocol on a new stream.</summary>
    public TimeSpan StreamNegotiationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A connection without any stream for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public YamuxOptions Yamux { get; init; } = new();
}
