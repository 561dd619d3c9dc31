using System.Buffers.Binary;
using System.Security.Cryptography;

namespace StoreSync.Libp2p.Noise;

/// <summary>Noise CipherState for ChaChaPoly: a key and a 64-bit message counter used as the nonce.</summary>
internal sealed class CipherState : IDisposable
{
    public const int TagLength = 16;

    /// <summary>Noise reserves nonce 2^64-1, so that many messages is the end of a session.</summary>
    public const ulong MaxNonce = ulong.MaxValue - 1;

    private readonly ChaCha20Poly1305 _aead;

    public CipherState(ReadOnlySpan<byte> key)
    {
        Key = key.ToArray();
        _aead = new ChaCha20Poly1305(key);
    }

    /// <summary>Kept for the transcript tests that compare split keys with the reference vector.</summary>
    internal byte[] Key { get; }

    /// <summary>The nonce of the next message; settable so tests can reach the end of the nonce space.</summary>
    internal ulong Nonce { get; set; }

    /// <summary>Writes <c>plaintext.Length + 16</c> bytes (ciphertext ‖ tag) to <paramref name="destination"/>.</summary>
    public void Encrypt(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        _aead.Encrypt(nonce, plaintext, destination[..plaintext.Length], destination.Slice(plaintext.Length, TagLength), ad);
    }

    /// <summary>Decrypts ciphertext ‖ tag into <c>ciphertext.Length - 16</c> bytes; false when authentication fails.</summary>
    public bool TryDecrypt(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> ciphertext, Span<byte> destination)
    {
        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        int length = ciphertext.Length - TagLength;
        try
        {
            _aead.Decrypt(nonce, ciphertext[..length], ciphertext[length..], destination[..length], ad);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    private void NextNonce(Span<byte> nonce)
    {
        if (Nonce > MaxNonce) throw new IOException("noise: nonce space exhausted (2^64-1 messages); the session must end");
        // ChaChaPoly nonce = 32 zero bits ‖ 64-bit little-endian counter.
        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], Nonce);
        Nonce++;
    }

    public void Dispose() => _aead.Dispose();
}
