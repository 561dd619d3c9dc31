using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;

namespace StoreSync.Waku.LightPush;

/// <summary>Serves light push v3 and legacy v2 on a host: one request, one response, then FIN.</summary>
public sealed class LightPushService(LightPushServer server, int maxMessageBytes, ILogger<LightPushService> logger)
{
    public void Attach(Libp2pHost host)
    {
        host.SetStreamHandler(LightPushServer.ProtocolIdV3, (s, ct) => HandleAsync(s, v3: true, ct));
        host.SetStreamHandler(LightPushServer.ProtocolIdLegacy, (s, ct) => HandleAsync(s, v3: false, ct));
    }

    async Task HandleAsync(Libp2pStream stream, bool v3, CancellationToken ct)
    {
        var peer = stream.RemotePeer.ToString();
        byte[] request;
        try
        {
            request = await LengthPrefixed.ReadAsync(stream, LightPushServer.MaxRequestBytes(maxMessageBytes), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            logger.LogInformation("Unreadable light push from {Peer}: {Reason}", peer, e.Message);
            stream.Reset();
            return;
        }
        IMessage response = v3 ? server.AnswerV3(request, peer) : server.AnswerLegacy(request, peer);
        await LengthPrefixed.WriteAsync(stream, response.ToByteArray(), ct).ConfigureAwait(false);
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
        // Answered first, so the peer learns why; then cut off (it is refused until its points decay).
        if (server.ShouldDisconnect(peer)) await stream.Connection.CloseAsync("penalised: too many bad messages").ConfigureAwait(false);
    }
}
