using System.Security.Cryptography;
using StoreSync.Libp2p.Discovery.Enr;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>An established discv5 session: the two AES-128-GCM keys the handshake derived, one per direction.</summary>
internal sealed class Session(NodeAddress address, EnrRecord record, SessionKeys keys, bool weInitiated) : IDisposable
{
    public NodeAddress Address { get; } = address;

    /// <summary>The peer's record as the handshake proved it.</summary>
    public EnrRecord Record { get; set; } = record;

    /// <summary>The initiator writes with the initiator key, the recipient with the recipient key.</summary>
    public AesGcm WriteKey { get; } = new(weInitiated ? keys.InitiatorKey : keys.RecipientKey, Discv5Limits.GcmTagLength);

    public AesGcm ReadKey { get; } = new(weInitiated ? keys.RecipientKey : keys.InitiatorKey, Discv5Limits.GcmTagLength);

    public void Dispose()
    {
        WriteKey.Dispose();
        ReadKey.Dispose();
    }
}
