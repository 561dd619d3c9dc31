using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;
using StoreSync.Waku.Governor;

namespace StoreSync.Waku.LightPush;

/// <summary>Serves light push v3 and legacy v2 on a host through <see cref="RequestResponseHandler"/>.</summary>
/// <remarks>A request larger than <see cref="LightPushServer.MaxRequestBytes"/> or cut short is answered 400 (v3) or
/// unsuccessful with the reason (legacy), without reading the rest.
/// Light push is realtime ingest: never paced; its bytes are charged to the governor's global buckets so history yields.</remarks>
public sealed class LightPushService(LightPushServer server, int maxMessageBytes, ILogger<LightPushService> logger, WakuMetrics? metrics = null,
    IResourceGovernor? governor = null)
{
    readonly IResourceGovernor _governor = governor ?? UnlimitedGovernor.Instance;

    public void Attach(Libp2pHost host)
    {
        int maxRequestBytes = LightPushServer.MaxRequestBytes(maxMessageBytes);
        var v3 = new Responder(server, maxRequestBytes, metrics, _governor, v3: true);
        var legacy = new Responder(server, maxRequestBytes, metrics, _governor, v3: false);
        host.SetStreamHandler(LightPushServer.ProtocolIdV3, (s, ct) => RequestResponseHandler.HandleAsync(s, v3, logger, ct));
        host.SetStreamHandler(LightPushServer.ProtocolIdLegacy, (s, ct) => RequestResponseHandler.HandleAsync(s, legacy, logger, ct));
    }

    sealed class Responder(LightPushServer server, int maxRequestBytes, WakuMetrics? metrics, IResourceGovernor governor, bool v3) : IRequestResponder<IMessage>
    {
        public string Name => "light push";

        public int MaxRequestBytes => maxRequestBytes;

        public IMessage Answer(byte[] request, Libp2pStream stream)
        {
            metrics?.BytesIn.Add(request.Length, new KeyValuePair<string, object?>("protocol", "lightpush"));
            governor.RealtimeIn(request.Length);
            var peer = stream.RemotePeer.ToString();
            return v3 ? server.AnswerV3(request, peer) : server.AnswerLegacy(request, peer);
        }

        public async ValueTask<IMessage> AnswerAsync(byte[] request, Libp2pStream stream, CancellationToken ct)
        {
            if (!v3) return Answer(request, stream);
            metrics?.BytesIn.Add(request.Length, new KeyValuePair<string, object?>("protocol", "lightpush"));
            governor.RealtimeIn(request.Length);
            return await server.AnswerV3Async(request, stream.RemotePeer.ToString(), ct).ConfigureAwait(false);
        }

        public IMessage Unreadable(string reason, Libp2pStream stream) =>
            v3 ? server.UnreadableV3(reason) : server.UnreadableLegacy(reason);

        public async ValueTask WriteAsync(Libp2pStream stream, IMessage response, CancellationToken ct)
        {
            var bytes = response.ToByteArray();
            governor.RealtimeOut(bytes.Length);
            await LengthPrefixed.WriteAsync(stream, bytes, ct).ConfigureAwait(false);
            metrics?.BytesOut.Add(bytes.Length, new KeyValuePair<string, object?>("protocol", "lightpush"));
        }

        // Answered first, so the peer learns why; then cut off (it is refused until its points decay). The peer's half-close is
        // awaited first, bounded: a connection closed under a client that is still sending its FIN can fail that write before
        // the client has read the answer.
        public async ValueTask AfterResponseAsync(Libp2pStream stream)
        {
            if (!server.ShouldDisconnect(stream.RemotePeer.ToString())) return;
            await AwaitHalfCloseAsync(stream).ConfigureAwait(false);
            await stream.Connection.CloseAsync("penalised: too many bad messages").ConfigureAwait(false);
        }

        static async Task AwaitHalfCloseAsync(Libp2pStream stream)
        {
            using var wait = new CancellationTokenSource(HalfCloseWait);
            var sink = new byte[256];
            try
            {
                for (int i = 0; i < 16 && !stream.RemoteClosed; i++)
                    if (await stream.ReadAsync(sink, wait.Token).ConfigureAwait(false) == 0) return;
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { }
        }
    }

    static readonly TimeSpan HalfCloseWait = TimeSpan.FromSeconds(2);
}
