namespace StoreSync.Libp2p.Yamux;

/// <summary>Limits and windows of a yamux session; every one bounds memory or work a peer can cause.</summary>
public sealed record YamuxOptions
{
    /// <summary>The spec's initial window: what either side may send on a new stream before any window update.</summary>
    public const int DefaultWindow = 256 * 1024;

    /// <summary>Receive window we grant per stream (announced with the SYN/ACK window update); bounds buffered bytes per stream.</summary>
    public int ReceiveWindow { get; init; } = 1024 * 1024;

    /// <summary>Largest Data payload we send in one frame.</summary>
    public int MaxFramePayload { get; init; } = 128 * 1024;

    /// <summary>Open streams per session (both directions); a SYN beyond it is answered with RST.</summary>
    public int MaxStreams { get; init; } = 256;

    /// <summary>Inbound streams waiting to be accepted; beyond it new inbound streams are reset.</summary>
    public int AcceptBacklog { get; init; } = 64;

    /// <summary>Interval of keep-alive pings (js-libp2p pings every 30 s); zero disables them.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);
}
