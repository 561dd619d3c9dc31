using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Noise;

namespace StoreSync.Testing.Libp2p;

/// <summary>Two ends of one Noise session (fresh Ed25519 identities): our initiator against our responder.</summary>
public static class NoisePair
{
    /// <summary>Handshakes over an in-memory duplex pipe.</summary>
    public static Task<(SecureChannel Initiator, SecureChannel Responder)> ConnectAsync(CancellationToken ct)
    {
        var (a, b) = DuplexPipe.Create();
        return ConnectAsync(a, b, ct);
    }

    /// <summary>Handshakes over the given transport: <paramref name="a"/> initiates, <paramref name="b"/> responds.</summary>
    public static async Task<(SecureChannel Initiator, SecureChannel Responder)> ConnectAsync(Stream a, Stream b, CancellationToken ct)
    {
        var responding = Task.Run(() => NoiseHandshake.RespondAsync(b, IdentityKey.Generate(KeyType.Ed25519), ct), ct);
        var initiator = await NoiseHandshake.InitiateAsync(a, IdentityKey.Generate(KeyType.Ed25519), null, ct);
        return (initiator, await responding);
    }
}
