using Google.Protobuf;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Multiformats;

namespace StoreSync.Testing.Libp2p;

/// <summary>One length-prefixed request/response exchange on a fresh stream, as store, light push and metadata speak it.</summary>
public static class RequestResponse
{
    /// <summary>The largest response a test reads.</summary>
    public const int MaxResponseBytes = 1 << 20;

    /// <summary>Opens <paramref name="protocol"/> to <paramref name="address"/>, writes the request, closes the write side and returns the response bytes.</summary>
    public static async Task<byte[]> RoundTripAsync(Libp2pHost client, Multiaddr address, string protocol, IMessage request, CancellationToken ct)
    {
        await using var stream = await client.NewStreamAsync(address, protocol, ct);
        await LengthPrefixed.WriteAsync(stream, request.ToByteArray(), ct);
        await stream.CloseWriteAsync(ct);
        return await LengthPrefixed.ReadAsync(stream, MaxResponseBytes, ct);
    }
}
