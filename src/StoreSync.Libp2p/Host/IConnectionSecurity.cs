using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Host;

/// <summary>A connection security protocol negotiated by multistream-select on a raw TCP connection (Noise in production).</summary>
public interface IConnectionSecurity
{
    /// <summary>The multistream-select protocol id, e.g. <c>/noise</c>.</summary>
    string ProtocolId { get; }

    /// <summary>Runs the dialer's side of the handshake; fails when <paramref name="expectedRemote"/> is given and the peer proves another id.</summary>
    Task<SecuredConnection> SecureOutboundAsync(Stream transport, IdentityKey local, PeerId? expectedRemote, CancellationToken ct);

    /// <summary>Runs the listener's side of the handshake.</summary>
    Task<SecuredConnection> SecureInboundAsync(Stream transport, IdentityKey local, CancellationToken ct);
}

/// <summary>The result of a security handshake: the protected byte stream and the identity the peer proved.</summary>
public sealed record SecuredConnection(Stream Stream, PeerId RemotePeer, PublicKey RemotePublicKey);
