using System.Security.Cryptography;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Waku.Communities;

/// <summary>The authorship signature a message carries in <c>meta</c> under a community's authorship policy.</summary>
/// <remarks>
/// meta = 64 bytes, the recoverable secp256k1 signature (EIP-2098 form: r ‖ yParity·2^255 + s, low-S) over
/// SHA-256("storesync/author/v1\0" ‖ H0), where H0 is the message's deterministic hash computed with meta absent.
/// The author's key is not sent: meta holds at most 64 bytes and a signature alone fills it, so the verifier recovers the
/// key from the signature and checks it against the owner and the owner-signed member list. Signing the hash without meta
/// is what lets the signature live inside the hashed message. spec/communities.md.
/// </remarks>
public static class AuthorSignature
{
    /// <summary>"storesync/author/v1" and a zero byte.</summary>
    public static ReadOnlySpan<byte> DomainTag => "storesync/author/v1\0"u8;

    public const int Length = Secp256k1Signatures.SignatureLength;

    /// <summary>What the author signs: SHA-256(domain tag ‖ hash of the message without meta).</summary>
    public static byte[] Digest(string pubsubTopic, WakuMessage message)
    {
        var withoutMeta = MessageHash.Compute(pubsubTopic, message.Payload.Span, message.ContentTopic, default, message.Timestamp);
        Span<byte> input = stackalloc byte[DomainTag.Length + MessageHash.Length];
        DomainTag.CopyTo(input);
        withoutMeta.WriteTo(input[DomainTag.Length..]);
        return SHA256.HashData(input);
    }

    /// <summary>Signs <paramref name="message"/> in place: sets its meta to the author signature.</summary>
    public static void Sign(ReadOnlySpan<byte> authorPrivateKey, string pubsubTopic, WakuMessage message) =>
        message.Meta = ByteString.CopyFrom(Secp256k1Signatures.SignRecoverable(authorPrivateKey, Digest(pubsubTopic, message)));

    /// <summary>The compressed key that signed the message, or null when meta is absent, not 64 bytes, or malformed.</summary>
    public static byte[]? RecoverAuthor(string pubsubTopic, WakuMessage message)
    {
        if (!message.HasMeta || message.Meta.Length != Length) return null;
        return Secp256k1Signatures.RecoverSigner(Digest(pubsubTopic, message), message.Meta.Span);
    }
}
