using System.Diagnostics;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Multistream;
using StoreSync.Libp2p.Yamux;

namespace StoreSync.Libp2p.Host;

/// <summary>An upgraded connection to one peer (TCP, security, yamux), from which streams are opened.</summary>
public sealed class Connection
{
    readonly YamuxSession _session;
    readonly Libp2pHost _host;
    long _lastActivity = Stopwatch.GetTimestamp();

    internal Connection(Libp2pHost host, YamuxSession session, PublicKey remoteKey, Multiaddr remoteAddress, Multiaddr localAddress, bool isInbound)
    {
        _host = host;
        _session = session;
        RemotePublicKey = remoteKey;
        RemotePeer = PeerId.FromPublicKey(remoteKey);
        RemoteAddress = remoteAddress;
        LocalAddress = localAddress;
        IsInbound = isInbound;
    }

    public PeerId RemotePeer { get; }
    public PublicKey RemotePublicKey { get; }

    /// <summary>The peer's address as seen on the socket (what identify reports as its observed address).</summary>
    public Multiaddr RemoteAddress { get; }
    public Multiaddr LocalAddress { get; }
    public bool IsInbound { get; }

    /// <summary>What the peer said about itself (set by the identify service).</summary>
    public object? RemoteIdentify { get; set; }

    public bool IsClosed => _session.IsClosed;
    public string? CloseReason => _session.CloseReason;
    public int ActiveStreams => _session.ActiveStreams;
    internal YamuxSession Session => _session;
    internal TimeSpan Idle => ActiveStreams > 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastActivity));
    internal void Touch() => Interlocked.Exchange(ref _lastActivity, Stopwatch.GetTimestamp());

    /// <summary>Opens a stream and negotiates <paramref name="protocolId"/> on it.</summary>
    public async Task<Libp2pStream> NewStreamAsync(string protocolId, CancellationToken ct)
    {
        Touch();
        var stream = await _session.OpenStreamAsync(ct).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_host.Options.StreamNegotiationTimeout);
            var agreed = await MultistreamSelect.SelectAsync(stream, [protocolId], timeout.Token).ConfigureAwait(false);
            return new Libp2pStream(stream, agreed, this);
        }
        catch
        {
            stream.Reset();
            throw;
        }
    }

    public Task<TimeSpan> PingAsync(CancellationToken ct) => _session.PingAsync(ct);

    public Task CloseAsync(string reason) => _session.GoAwayAsync(YamuxGoAwayCode.Normal, reason);

    public override string ToString() => $"{RemotePeer} at {RemoteAddress} ({(IsInbound ? "inbound" : "outbound")})";
}
