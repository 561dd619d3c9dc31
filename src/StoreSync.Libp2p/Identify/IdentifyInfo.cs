using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Libp2p.Identify;

/// <summary>What a peer told us about itself in identify: key, addresses, protocols and software.</summary>
public sealed record IdentifyInfo(
    PublicKey PublicKey,
    IReadOnlyList<Multiaddr> ListenAddresses,
    IReadOnlyList<string> Protocols,
    Multiaddr? ObservedAddress,
    string ProtocolVersion,
    string AgentVersion)
{
    public PeerId PeerId => PeerId.FromPublicKey(PublicKey);
}
