namespace StoreSync.Libp2p.Pubsub;

/// <summary>How the router signs and verifies messages (pubsub/README.md "Signature policy").</summary>
public enum SignaturePolicy
{
    /// <summary>
    /// Publish without origin stamp or signature; reject (with the invalid-message penalty) any received message that
    /// carries from, seqno, signature or key. Waku relay's policy; the only one this router implements.
    /// </summary>
    StrictNoSign,
}
