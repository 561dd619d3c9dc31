using System.Buffers;
using System.Buffers.Binary;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Noise;

/// <summary>The libp2p Noise secure channel handshake (<c>/noise</c>, Noise_XX_25519_ChaChaPoly_SHA256).</summary>
/// <remarks>
/// Cancelling <c>ct</c> (the caller's handshake timeout) ends the handshake with <see cref="OperationCanceledException"/>;
/// every other failure is a <see cref="NoiseHandshakeException"/>. Either way the caller closes the transport.
/// </remarks>
public static class NoiseHandshake
{
    public const string ProtocolId = "/noise";

    /// <summary>Largest Noise message, tag included; every message travels behind a u16 big-endian length.</summary>
    public const int MaxMessageLength = 65535;

    private const int LengthPrefix = 2;

    public static Task<SecureChannel> InitiateAsync(Stream transport, IdentityKey local, PeerId? expectedRemote, CancellationToken ct) =>
        InitiateAsync(transport, local, expectedRemote, X25519KeyPair.Generate(), X25519KeyPair.Generate(), streamMuxers: null, ct);

    public static Task<SecureChannel> RespondAsync(Stream transport, IdentityKey local, CancellationToken ct) =>
        RespondAsync(transport, local, X25519KeyPair.Generate(), X25519KeyPair.Generate(), streamMuxers: null, ct);

    /// <summary>Initiator with injected Noise keys and extensions, so tests can reproduce a reference transcript.</summary>
    internal static Task<SecureChannel> InitiateAsync(Stream transport, IdentityKey local, PeerId? expectedRemote,
        X25519KeyPair staticKey, X25519KeyPair ephemeralKey, IReadOnlyList<string>? streamMuxers, CancellationToken ct) =>
        RunAsync(transport, local, initiator: true, staticKey, ephemeralKey, async (state, buffer) =>
        {
            await WriteMessageAsync(transport, buffer, state.WriteMessage1(Body(buffer)), ct).ConfigureAwait(false);
            int length = await ReadMessageAsync(transport, buffer, "msg2", ct).ConfigureAwait(false);
            var remotePayload = state.ReadMessage2(buffer.AsSpan(LengthPrefix, length));
            var remote = HandshakePayload.Verify(remotePayload, state.RemoteStatic, expectedRemote, "responder");
            var payload = HandshakePayload.Create(local, staticKey.Public, streamMuxers);
            await WriteMessageAsync(transport, buffer, state.WriteMessage3(payload, Body(buffer)), ct).ConfigureAwait(false);
            return remote;
        });

    /// <summary>Responder with injected Noise keys and extensions, so tests can reproduce a reference transcript.</summary>
    internal static Task<SecureChannel> RespondAsync(Stream transport, IdentityKey local,
        X25519KeyPair staticKey, X25519KeyPair ephemeralKey, IReadOnlyList<string>? streamMuxers, CancellationToken ct) =>
        RunAsync(transport, local, initiator: false, staticKey, ephemeralKey, async (state, buffer) =>
        {
            int length = await ReadMessageAsync(transport, buffer, "msg1", ct).ConfigureAwait(false);
            state.ReadMessage1(buffer.AsSpan(LengthPrefix, length));
            var payload = HandshakePayload.Create(local, staticKey.Public, streamMuxers);
            await WriteMessageAsync(transport, buffer, state.WriteMessage2(payload, Body(buffer)), ct).ConfigureAwait(false);
            length = await ReadMessageAsync(transport, buffer, "msg3", ct).ConfigureAwait(false);
            var remotePayload = state.ReadMessage3(buffer.AsSpan(LengthPrefix, length));
            return HandshakePayload.Verify(remotePayload, state.RemoteStatic, expectedRemote: null, "initiator");
        });

    /// <summary>Runs one side's message exchange with a pooled message buffer, then splits into a channel.</summary>
    private static async Task<SecureChannel> RunAsync(Stream transport, IdentityKey local, bool initiator,
        X25519KeyPair staticKey, X25519KeyPair ephemeralKey, Func<XxHandshakeState, byte[], Task<(PeerId Peer, PublicKey Key)>> exchange)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(local);
        var buffer = ArrayPool<byte>.Shared.Rent(LengthPrefix + MaxMessageLength);
        try
        {
            using var state = new XxHandshakeState(initiator, staticKey, ephemeralKey);
            var (peer, key) = await exchange(state, buffer).ConfigureAwait(false);
            var (send, receive) = state.Split();
            return new SecureChannel(transport, send, receive, peer, key, state.HandshakeHash);
        }
        catch (IOException e)
        {
            throw new NoiseHandshakeException($"noise: transport failed during the handshake: {e.Message}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    private static Span<byte> Body(byte[] buffer) => buffer.AsSpan(LengthPrefix, MaxMessageLength);

    private static async ValueTask WriteMessageAsync(Stream transport, byte[] buffer, int length, CancellationToken ct)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer, checked((ushort)length));
        await transport.WriteAsync(buffer.AsMemory(0, LengthPrefix + length), ct).ConfigureAwait(false);
        await transport.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Reads exactly one length-prefixed message (never past it) into the body of <paramref name="buffer"/>.</summary>
    private static async ValueTask<int> ReadMessageAsync(Stream transport, byte[] buffer, string what, CancellationToken ct)
    {
        int got = await transport.ReadAtLeastAsync(buffer.AsMemory(0, LengthPrefix), LengthPrefix, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        if (got < LengthPrefix) throw new NoiseHandshakeException($"noise: connection closed before {what} (got {got} of its 2 length bytes)");
        int length = BinaryPrimitives.ReadUInt16BigEndian(buffer);
        got = await transport.ReadAtLeastAsync(buffer.AsMemory(LengthPrefix, length), length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        if (got < length) throw new NoiseHandshakeException($"noise: {what} truncated: {length} bytes announced, connection closed after {got}");
        return length;
    }
}
