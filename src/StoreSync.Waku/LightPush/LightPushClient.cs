using Google.Protobuf;
using StoreSync.Core.Proto;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Waku.Proto;

namespace StoreSync.Waku.LightPush;

/// <summary>Pushes a message to a remote node over light push v3 (<c>/vac/waku/lightpush/3.0.0</c>): one request, one response.</summary>
public sealed class LightPushClient(Libp2pHost host)
{
    /// <summary>A response carries a status and a description; 64 KiB bounds any honest one.</summary>
    public const int MaxResponseBytes = 64 * 1024;

    public async Task<LightpushResponse> PushAsync(Multiaddr peer, string pubsubTopic, WakuMessage message, CancellationToken ct, string? requestId = null)
    {
        var request = new LightpushRequest { RequestId = requestId ?? Guid.NewGuid().ToString(), PubsubTopic = pubsubTopic, Message = message };
        await using var stream = await host.NewStreamAsync(peer, LightPushServer.ProtocolIdV3, ct).ConfigureAwait(false);
        await LengthPrefixed.WriteAsync(stream, request.ToByteArray(), ct).ConfigureAwait(false);
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
        var bytes = await LengthPrefixed.ReadAsync(stream, MaxResponseBytes, ct).ConfigureAwait(false);
        try
        {
            return LightpushResponse.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"light push response from {peer} does not decode: {e.Message}", e);
        }
    }
}
