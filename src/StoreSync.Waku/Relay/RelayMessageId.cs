using System.Security.Cryptography;
using StoreSync.Libp2p.Pubsub;

namespace StoreSync.Waku.Relay;

/// <summary>The gossipsub message id of Waku relay: SHA-256 of the pubsub message's data (the encoded WakuMessage), the
/// topic not included.</summary>
/// <remarks>nwaku's defaultMessageIdProvider (waku_relay/message_id.nim) and js-waku's wakuGossipSub msgIdFn
/// (<c>sha256(data)</c>) compute the same, so a message keeps one id across implementations and is not forwarded again.
/// It is not the Waku message hash (spec/message.md), which covers the pubsub topic and only some fields.</remarks>
public static class RelayMessageId
{
    public const int Length = 32;

    /// <summary>The <see cref="MessageIdFunction"/> to give the router.</summary>
    public static readonly MessageIdFunction Function = Compute;

    public static bool Compute(string topic, ReadOnlySpan<byte> data, out byte[] messageId)
    {
        messageId = SHA256.HashData(data);
        return true;
    }
}
