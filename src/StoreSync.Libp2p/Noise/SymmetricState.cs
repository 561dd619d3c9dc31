using System.Security.Cryptography;

namespace StoreSync.Libp2p.Noise;

/// <summary>Noise SymmetricState over SHA-256: chaining key, handshake hash and the current handshake cipher.</summary>
internal sealed class SymmetricState : IDisposable
{
    public const int HashLength = 32;

    private readonly byte[] _ck = new byte[HashLength];
    private readonly byte[] _h = new byte[HashLength];
    private CipherState? _cipher;

    public SymmetricState(string protocolName)
    {
        var name = System.Text.Encoding.ASCII.GetBytes(protocolName);
        // Names up to HASHLEN bytes are zero-padded, longer ones hashed; "Noise_XX_25519_ChaChaPoly_SHA256" is exactly 32.
        if (name.Length <= HashLength) name.CopyTo(_h, 0);
        else SHA256.HashData(name, _h);
        _h.CopyTo(_ck, 0);
    }

    public ReadOnlySpan<byte> HandshakeHash => _h;

    public void MixHash(ReadOnlySpan<byte> data)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(_h);
        sha.AppendData(data);
        sha.GetHashAndReset(_h);
    }

    public void MixKey(ReadOnlySpan<byte> inputKeyMaterial)
    {
        Span<byte> tempKey = stackalloc byte[HashLength];
        Hkdf(_ck, inputKeyMaterial, _ck, tempKey);
        _cipher?.Dispose();
        _cipher = new CipherState(tempKey);
        CryptographicOperations.ZeroMemory(tempKey);
    }

    /// <summary>Output length: <c>plaintext.Length</c> before the first MixKey, plus 16 after.</summary>
    public int EncryptAndHash(ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        int length;
        if (_cipher is null)
        {
            plaintext.CopyTo(destination);
            length = plaintext.Length;
        }
        else
        {
            _cipher.Encrypt(_h, plaintext, destination);
            length = plaintext.Length + CipherState.TagLength;
        }
        MixHash(destination[..length]);
        return length;
    }

    /// <exception cref="NoiseHandshakeException">Authentication failed, or the input is shorter than a tag.</exception>
    public byte[] DecryptAndHash(ReadOnlySpan<byte> ciphertext, string what)
    {
        byte[] plaintext;
        if (_cipher is null) plaintext = ciphertext.ToArray();
        else
        {
            if (ciphertext.Length < CipherState.TagLength) throw new NoiseHandshakeException($"noise: {what} is shorter than its authentication tag");
            plaintext = new byte[ciphertext.Length - CipherState.TagLength];
            if (!_cipher.TryDecrypt(_h, ciphertext, plaintext))
                throw new NoiseHandshakeException($"noise: {what} failed to decrypt (corrupted, or not a Noise XX peer)");
        }
        MixHash(ciphertext);
        return plaintext;
    }

    /// <summary>The two transport ciphers: the first for initiator→responder, the second for responder→initiator.</summary>
    public (CipherState InitiatorToResponder, CipherState ResponderToInitiator) Split()
    {
        Span<byte> k1 = stackalloc byte[HashLength], k2 = stackalloc byte[HashLength];
        Hkdf(_ck, [], k1, k2);
        var result = (new CipherState(k1), new CipherState(k2));
        CryptographicOperations.ZeroMemory(k1);
        CryptographicOperations.ZeroMemory(k2);
        return result;
    }

    /// <summary>Noise's HKDF with two outputs (HMAC-SHA256 extract, then expand by chaining).</summary>
    private static void Hkdf(ReadOnlySpan<byte> chainingKey, ReadOnlySpan<byte> inputKeyMaterial, Span<byte> output1, Span<byte> output2)
    {
        Span<byte> tempKey = stackalloc byte[HashLength];
        Span<byte> block = stackalloc byte[HashLength + 1];
        ReadOnlySpan<byte> one = [0x01];
        HMACSHA256.HashData(chainingKey, inputKeyMaterial, tempKey);
        HMACSHA256.HashData(tempKey, one, block[..HashLength]);
        block[HashLength] = 0x02;
        HMACSHA256.HashData(tempKey, block, output2);
        // output1 may be the chaining key itself, which is no longer read past this point.
        block[..HashLength].CopyTo(output1);
        CryptographicOperations.ZeroMemory(tempKey);
        CryptographicOperations.ZeroMemory(block);
    }

    public void Dispose()
    {
        _cipher?.Dispose();
        CryptographicOperations.ZeroMemory(_ck);
    }
}
