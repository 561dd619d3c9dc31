namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>Why an incoming datagram was dropped; <see cref="None"/> means it was accepted. Counted in metrics, never answered.</summary>
public enum PacketDropReason
{
    None = 0,
    TooShort,
    TooLarge,
    /// <summary>The unmasked static header does not start with "discv5" and version 1: not for us, or not discv5 at all.</summary>
    NotDiscv5,
    UnknownFlag,
    /// <summary>authdata-size disagrees with the flag or runs past the datagram.</summary>
    BadAuthData,
    /// <summary>A message packet without room for the GCM tag, or a WHOAREYOU with trailing bytes.</summary>
    BadMessageLength,
    /// <summary>The message did not authenticate under the session keys.</summary>
    DecryptionFailed,
    /// <summary>The decrypted message is not a well-formed discv5 message.</summary>
    BadMessage,
    /// <summary>A handshake whose challenge, signature, key or record did not check out.</summary>
    BadHandshake,
    /// <summary>A WHOAREYOU that answers no request of ours.</summary>
    UnsolicitedWhoAreYou,
    /// <summary>The source address sent more than its share of packets.</summary>
    RateLimited,
    /// <summary>A response that matches no pending request.</summary>
    UnexpectedResponse,
}
