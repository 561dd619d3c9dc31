using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Host;

/// <summary>A connection security protocol negotiated on the raw connection (Noise in production).</summary>
public interface ISecurityProtocol
{
    string ProtocolId { get; }

    /// <summary>Secures an outbound connection; fails if the peer does not prove <paramref name="expectedRemote"/> when given.</summary>
    Task<SecuredConnection> InitiateAsync(Stream raw, IdentityKey local, PeerId? expectedRemote, CancellationToken ct);

    Task<SecuredConnection> RespondAsync(Stream raw, IdentityKey local, CancellationToken ct);
}

/// <summary>A secured duplex stream and the identity key the remote proved.</summary>
public sealed record SecuredConnection(Stream Stream, PublicKey RemoteKey)
{
    public PeerId RemotePeer { get; } = PeerId.FromPublicKey(RemoteKey);
}
