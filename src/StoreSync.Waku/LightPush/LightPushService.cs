using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;
using StoreSync.Waku.Governor;

namespace StoreSync.Waku.LightPush;

/// <summary>Serves light push v3 and legacy v2 on a host: one request, one response, then FIN.</summary>
/// <remarks>Light push is realtime ingest: never paced; its bytes are charged to the governor's global buckets so history yields.</remarks>
public sealed class LightPushService(LightPushServer server, int maxMessageBytes, ILogger<LightPushService> logger, IResourceGovernor? governor = null)
{
    readonly IResourceGovernor _governor = governor ?? UnlimitedGovernor.Instance;

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
        _governor.RealtimeIn(request.Length);
        IMessage response = v3 ? server.AnswerV3(request, peer) : server.AnswerLegacy(request, peer);
        var bytes = response.ToByteArray();
        _governor.RealtimeOut(bytes.Length);
        await LengthPrefixed.WriteAsync(stream, bytes, ct).ConfigureAwait(false);
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
    }
}
