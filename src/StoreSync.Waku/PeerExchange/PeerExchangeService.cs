using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;
using StoreSync.Waku.Proto;
using StoreSync.Waku.RateLimiting;

namespace StoreSync.Waku.PeerExchange;

/// <summary>
/// Serves <c>/vac/waku/peer-exchange/2.0.0-alpha1</c> through <see cref="RequestResponseHandler"/>: up to
/// min(num_peers, 60) records from the <see cref="IPeerExchangeSource"/>, 200; an unreadable query 400; a peer past its
/// rate 429 (nwaku's answers).
/// </summary>
public sealed class PeerExchangeService(IPeerExchangeSource source, PerPeerRateLimiter limiter, ILogger<PeerExchangeService> logger, WakuMetrics? metrics = null)
{
    /// <summary>Default per-peer rate: a light client asks once at start and now and then after; 1 per 6 s, 5 at once.</summary>
    public const double DefaultRatePerSecond = 1.0 / 6;
    public const double DefaultBurst = 5;

    readonly Responder _responder = new(source, limiter, metrics);

    public void Attach(Libp2pHost host) =>
        host.SetStreamHandler(PeerExchangeProtocol.ProtocolId, (s, ct) => RequestResponseHandler.HandleAsync(s, _responder, logger, ct));

    sealed class Responder(IPeerExchangeSource source, PerPeerRateLimiter limiter, WakuMetrics? metrics) : IRequestResponder<byte[]>
    {
        public string Name => "peer exchange query";

        public int MaxRequestBytes => PeerExchangeProtocol.MaxRequestBytes;

        public byte[] Answer(byte[] request, Libp2pStream stream)
        {
            if (!limiter.TryAcquire(stream.RemotePeer.ToString()))
                return PeerExchangeProtocol.EncodeResponse([], PeerExchangeProtocol.TooManyRequests, "rate limit exceeded");
            PeerExchangeRPC rpc;
            try { rpc = PeerExchangeRPC.Parser.ParseFrom(request); }
            catch (InvalidProtocolBufferException e) { return Unreadable(e.Message, stream); }
            if (rpc.Query is null) return Unreadable("no query", stream);
            int count = (int)Math.Min(rpc.Query.NumPeers, PeerExchangeProtocol.MaxPeersPerResponse);
            var records = source.SampleForExchange(count);
            metrics?.BytesIn.Add(request.Length, new KeyValuePair<string, object?>("protocol", "peer-exchange"));
            return PeerExchangeProtocol.EncodeResponse(records.Take(count).Select(r => new ReadOnlyMemory<byte>(r.ToArray())), PeerExchangeProtocol.Success);
        }

        public byte[] Unreadable(string reason, Libp2pStream stream) =>
            PeerExchangeProtocol.EncodeResponse([], PeerExchangeProtocol.BadRequest, reason);

        public async ValueTask WriteAsync(Libp2pStream stream, byte[] response, CancellationToken ct)
        {
            await LengthPrefixed.WriteAsync(stream, response, ct).ConfigureAwait(false);
            metrics?.BytesOut.Add(response.Length, new KeyValuePair<string, object?>("protocol", "peer-exchange"));
        }
    }
}
