using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Noise;

/// <summary>Noise as the host's connection security protocol (<c>/noise</c>), the one the node uses in production.</summary>
public sealed class NoiseSecurity : ISecurityProtocol
{
    public string ProtocolId => NoiseHandshake.ProtocolId;

    public async Task<SecuredConnection> InitiateAsync(Stream raw, IdentityKey local, PeerId? expectedRemote, CancellationToken ct)
    {
        var channel = await NoiseHandshake.InitiateAsync(raw, local, expectedRemote, ct).ConfigureAwait(false);
        return new SecuredConnection(channel, channel.RemotePublicKey);
    }

    public async Task<SecuredConnection> RespondAsync(Stream raw, IdentityKey local, CancellationToken ct)
    {
        var channel = await NoiseHandshake.RespondAsync(raw, local, ct).ConfigureAwait(false);
        return new SecuredConnection(channel, channel.RemotePublicKey);
    }
}
