using Google.Protobuf;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Noise.Protos;

namespace StoreSync.Libp2p.Noise;

/// <summary>The libp2p NoiseHandshakePayload: our identity key and its signature over our Noise static key.</summary>
internal static class HandshakePayload
{
    private static ReadOnlySpan<byte> SignaturePrefix => "noise-libp2p-static-key:"u8;

    /// <param name="streamMuxers">Only tests pass muxers: production sends no extensions (see spec/libp2p.md "Noise").</param>
    public static byte[] Create(IdentityKey identity, ReadOnlySpan<byte> staticPublicKey, IReadOnlyList<string>? streamMuxers)
    {
        var payload = new NoiseHandshakePayload
        {
            IdentityKey = ByteString.CopyFrom(identity.PublicKey.ToProtobuf()),
            IdentitySig = ByteString.CopyFrom(identity.Sign(SignedData(staticPublicKey))),
        };
        if (streamMuxers is not null) payload.Extensions = new NoiseExtensions { StreamMuxers = { streamMuxers } };
        return payload.ToByteArray();
    }

    /// <summary>Checks the remote payload against the remote static key and, when given, the expected peer.</summary>
    /// <exception cref="NoiseHandshakeException">Undecodable payload or key, bad signature, or another peer than expected.</exception>
    public static (PeerId Peer, PublicKey Key) Verify(byte[] payload, ReadOnlySpan<byte> remoteStaticKey, PeerId? expectedRemote, string side)
    {
        NoiseHandshakePayload decoded;
        try { decoded = NoiseHandshakePayload.Parser.ParseFrom(payload); }
        catch (InvalidProtocolBufferException e) { throw new NoiseHandshakeException($"noise: {side} payload does not decode: {e.Message}", e); }
        // Extensions (stream muxers, webtransport certhashes) are ignored on purpose: see spec/libp2p.md "Noise".
        if (decoded.IdentityKey.IsEmpty) throw new NoiseHandshakeException($"noise: {side} payload has no identity key");
        PublicKey key;
        try { key = PublicKey.FromProtobuf(decoded.IdentityKey.Span); }
        catch (FormatException e) { throw new NoiseHandshakeException($"noise: {side} identity key does not decode: {e.Message}", e); }
        if (!key.Verify(SignedData(remoteStaticKey), decoded.IdentitySig.Span))
            throw new NoiseHandshakeException($"noise: {side} identity signature does not verify for its Noise static key");
        var peer = PeerId.FromPublicKey(key);
        if (expectedRemote is not null && peer != expectedRemote)
            throw new NoiseHandshakeException($"noise: {side} is peer {peer}, expected {expectedRemote}");
        return (peer, key);
    }

    private static byte[] SignedData(ReadOnlySpan<byte> staticPublicKey) => [.. SignaturePrefix, .. staticPublicKey];
}
