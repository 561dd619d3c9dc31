using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;
using StoreSync.Waku.Governor;

namespace StoreSync.Waku.LightPush;

/// <summary>Serves light push v3 and legacy v2 on a host: one request, one response, then FIN.</summary>
/// <remarks>A request larger than <see cref="LightPushServer.MaxRequestBytes"/> or cut short is answered 400 (v3) or
/// unsuccessful with the reason (legacy), without reading the rest; one that
/// stalls (see <see cref="RequestReader"/>) gets its stream reset. Each case is logged with the reason.
/// Light push is realtime ingest: never paced; its bytes are charged to the governor's global buckets so history yields.</remarks>
public sealed class LightPushService(LightPushServer server, int maxMessageBytes, ILogger<LightPushService> logger, WakuMetrics? metrics = null,
    IResourceGovernor? governor = null)
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
        IMessage response;
        try
        {
            var request = await RequestReader.ReadAsync(stream, LightPushServer.MaxRequestBytes(maxMessageBytes), ct).ConfigureAwait(false);
            metrics?.BytesIn.Add(request.Length, new KeyValuePair<string, object?>("protocol", "lightpush"));
            _governor.RealtimeIn(request.Length);
            response = v3 ? server.AnswerV3(request, peer) : server.AnswerLegacy(request, peer);
        }
        catch (Exception e) when (e is InvalidDataException or Core.Wire.ProtocolViolationException or EndOfStreamException)
        {
            logger.LogInformation("Unreadable light push from {Peer}: {Reason}", peer, e.Message);
            response = v3 ? server.UnreadableV3(e.Message) : server.UnreadableLegacy(e.Message);
        }
        catch (StreamIdleException)
        {
            stream.Reset(); // an idle stream at shutdown: nothing was asked, nothing is lost
            return;
        }
        catch (TimeoutException e)
        {
            logger.LogInformation("Light push from {Peer} abandoned: {Reason}; resetting the stream", peer, e.Message);
            stream.Reset();
            return;
        }
        var bytes = response.ToByteArray();
        _governor.RealtimeOut(bytes.Length);
        await LengthPrefixed.WriteAsync(stream, bytes, ct).ConfigureAwait(false);
        metrics?.BytesOut.Add(bytes.Length, new KeyValuePair<string, object?>("protocol", "lightpush"));
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
        // Answered first, so the peer learns why; then cut off (it is refused until its points decay).
        if (server.ShouldDisconnect(peer)) await stream.Connection.CloseAsync("penalised: too many bad messages").ConfigureAwait(false);
    }
}
