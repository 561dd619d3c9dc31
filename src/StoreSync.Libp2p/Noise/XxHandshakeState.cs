namespace StoreSync.Libp2p.Noise;

/// <summary>
/// The Noise XX pattern (<c>-> e; &lt;- e, ee, s, es; -> s, se</c>) over one SymmetricState, one method per message
/// and side, free of I/O so a reference transcript can be replayed byte for byte.
/// </summary>
internal sealed class XxHandshakeState : IDisposable
{
    public const string ProtocolName = "Noise_XX_25519_ChaChaPoly_SHA256";

    private const int DhLength = X25519KeyPair.KeyLength;
    private const int EncryptedStaticLength = DhLength + CipherState.TagLength;

    /// <summary>The smallest msg2 and msg3 that can hold their keys and an (empty) encrypted payload.</summary>
    public const int MinMessage2Length = DhLength + EncryptedStaticLength + CipherState.TagLength;
    public const int MinMessage3Length = EncryptedStaticLength + CipherState.TagLength;

    private readonly bool _initiator;
    private readonly X25519KeyPair _s;
    private readonly X25519KeyPair _e;
    private readonly SymmetricState _state = new(ProtocolName);
    private byte[]? _re;
    private byte[]? _rs;

    public XxHandshakeState(bool initiator, X25519KeyPair localStatic, X25519KeyPair localEphemeral)
    {
        _initiator = initiator;
        _s = localStatic;
        _e = localEphemeral;
        _state.MixHash([]); // libp2p uses an empty prologue
    }

    public byte[] RemoteStatic => _rs ?? throw new InvalidOperationException("the remote static key arrives in msg2 (initiator) or msg3 (responder)");

    public byte[] HandshakeHash => _state.HandshakeHash.ToArray();

    /// <summary>Initiator: <c>-> e</c> with an empty payload.</summary>
    public int WriteMessage1(Span<byte> message)
    {
        WriteEphemeral(message);
        return DhLength + _state.EncryptAndHash([], message[DhLength..]);
    }

    /// <summary>Responder: reads <c>e</c>; a payload (libp2p sends none) is authenticated into the hash and ignored.</summary>
    public void ReadMessage1(ReadOnlySpan<byte> message)
    {
        if (message.Length < DhLength) throw new NoiseHandshakeException($"noise: msg1 is {message.Length} bytes, too short for a {DhLength}-byte ephemeral key");
        ReadEphemeral(message);
        _state.DecryptAndHash(message[DhLength..], "msg1 payload");
    }

    /// <summary>Responder: <c>&lt;- e, ee, s, es</c> and the encrypted payload.</summary>
    public int WriteMessage2(ReadOnlySpan<byte> payload, Span<byte> message)
    {
        EnsureFits(payload, MinMessage2Length, "msg2");
        WriteEphemeral(message);
        MixDh(_e, _re!);
        int o = DhLength + _state.EncryptAndHash(_s.Public, message[DhLength..]);
        MixDh(_s, _re!);
        return o + _state.EncryptAndHash(payload, message[o..]);
    }

    /// <summary>Initiator: reads msg2 and returns the responder's decrypted payload.</summary>
    public byte[] ReadMessage2(ReadOnlySpan<byte> message)
    {
        if (message.Length < MinMessage2Length) throw new NoiseHandshakeException($"noise: msg2 is {message.Length} bytes, shorter than the minimum {MinMessage2Length}");
        ReadEphemeral(message);
        MixDh(_e, _re!);
        _rs = _state.DecryptAndHash(message.Slice(DhLength, EncryptedStaticLength), "msg2 static key");
        MixDh(_e, _rs);
        return _state.DecryptAndHash(message[(DhLength + EncryptedStaticLength)..], "msg2 payload");
    }

    /// <summary>Initiator: <c>-> s, se</c> and the encrypted payload.</summary>
    public int WriteMessage3(ReadOnlySpan<byte> payload, Span<byte> message)
    {
        EnsureFits(payload, MinMessage3Length, "msg3");
        int o = _state.EncryptAndHash(_s.Public, message);
        MixDh(_s, _re!);
        return o + _state.EncryptAndHash(payload, message[o..]);
    }

    /// <summary>Responder: reads msg3 and returns the initiator's decrypted payload.</summary>
    public byte[] ReadMessage3(ReadOnlySpan<byte> message)
    {
        if (message.Length < MinMessage3Length) throw new NoiseHandshakeException($"noise: msg3 is {message.Length} bytes, shorter than the minimum {MinMessage3Length}");
        _rs = _state.DecryptAndHash(message[..EncryptedStaticLength], "msg3 static key");
        MixDh(_e, _rs);
        return _state.DecryptAndHash(message[EncryptedStaticLength..], "msg3 payload");
    }

    /// <summary>Transport ciphers from this side's point of view.</summary>
    public (CipherState Send, CipherState Receive) Split()
    {
        var (initiatorToResponder, responderToInitiator) = _state.Split();
        return _initiator ? (initiatorToResponder, responderToInitiator) : (responderToInitiator, initiatorToResponder);
    }

    private void WriteEphemeral(Span<byte> message)
    {
        _e.Public.CopyTo(message);
        _state.MixHash(_e.Public);
    }

    private void ReadEphemeral(ReadOnlySpan<byte> message)
    {
        _re = message[..DhLength].ToArray();
        _state.MixHash(_re);
    }

    private void MixDh(X25519KeyPair local, byte[] remotePublic)
    {
        Span<byte> shared = stackalloc byte[DhLength];
        local.Agree(remotePublic, shared);
        _state.MixKey(shared);
        shared.Clear();
    }

    private static void EnsureFits(ReadOnlySpan<byte> payload, int overhead, string what)
    {
        if (payload.Length + overhead > NoiseHandshake.MaxMessageLength)
            throw new NoiseHandshakeException($"noise: our {what} payload of {payload.Length} bytes would exceed {NoiseHandshake.MaxMessageLength} bytes");
    }

    public void Dispose() => _state.Dispose();
}
