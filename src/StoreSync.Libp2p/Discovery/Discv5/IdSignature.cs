using System.Security.Cryptography;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>
/// The handshake's id-signature: the initiator's static key signs
/// <c>sha256("discovery v5 identity proof" ‖ challenge-data ‖ ephemeral-pubkey ‖ node-id-B)</c> as 64-byte <c>r ‖ s</c>.
/// </summary>
public static class IdSignature
{
    static ReadOnlySpan<byte> Text => "discovery v5 identity proof"u8;

    public static byte[] Sign(ReadOnlySpan<byte> staticKey, ReadOnlySpan<byte> challengeData, ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> recipientId)
    {
        Span<byte> digest = stackalloc byte[32];
        Digest(challengeData, ephemeralPublicKey, recipientId, digest);
        return Secp256k1Signatures.Sign(staticKey, digest);
    }

    /// <summary>Whether <paramref name="signature"/> proves that the holder of <paramref name="publicKey"/> answered this challenge.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> signature, ReadOnlySpan<byte> challengeData, ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> recipientId)
    {
        Span<byte> digest = stackalloc byte[32];
        Digest(challengeData, ephemeralPublicKey, recipientId, digest);
        return Secp256k1Signatures.Verify(publicKey, digest, signature);
    }

    static void Digest(ReadOnlySpan<byte> challengeData, ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> recipientId, Span<byte> digest)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Text);
        sha.AppendData(challengeData);
        sha.AppendData(ephemeralPublicKey);
        sha.AppendData(recipientId);
        sha.GetHashAndReset(digest);
    }
}
