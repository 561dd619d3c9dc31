using Microsoft.Extensions.Logging;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Bandwidth;
using StoreSync.Libp2p.Host;
using StoreSync.Waku.Governor;

namespace StoreSync.Waku.Store;

/// <summary>Serves <c>/vac/waku/store-query/3.0.0</c> on a host through <see cref="RequestResponseHandler"/>.</summary>
/// <remarks>An unreadable request is answered 400 (nwaku's "decoding rpc failed").
/// The response is history traffic: it is written through the governor's upload chain for the topics it carries, so a
/// response larger than a burst is paced, not refused. The CPU time of answering (decode, query, encode) is booked to the same scope.</remarks>
public sealed class StoreQueryService(StoreQueryServer server, WakuMetrics metrics, ILogger<StoreQueryService> logger,
    IResourceGovernor? governor = null) : IRequestResponder<EncodedStoreResponse>
{
    readonly IResourceGovernor _governor = governor ?? UnlimitedGovernor.Instance;

    public string Name => "store query";

    public int MaxRequestBytes => StoreQueryServer.MaxRequestBytes;

    public void Attach(Libp2pHost host) => host.SetStreamHandler(StoreQueryServer.ProtocolId, HandleAsync);

    internal Task HandleAsync(Libp2pStream stream, CancellationToken ct) => RequestResponseHandler.HandleAsync(stream, this, logger, ct);

    public EncodedStoreResponse Answer(byte[] request, Libp2pStream stream)
    {
        var cpuStarted = ThreadCpuTime.Now();
        var response = server.Answer(request, stream.RemotePeer.ToString());
        if (cpuStarted != 0) _governor.RecordCpu(StoreQueryServer.ProtocolId, ScopeOf(response), ThreadCpuTime.Now() - cpuStarted);
        return response;
    }

    public EncodedStoreResponse Unreadable(string reason, Libp2pStream stream) => server.Unreadable(reason);

    public async ValueTask WriteAsync(Libp2pStream stream, EncodedStoreResponse response, CancellationToken ct)
    {
        using (response)
        {
            var paced = new ThrottledStream(stream, BandwidthChain.Unlimited, _governor.HistoryUpload(ScopeOf(response)));
            await LengthPrefixed.WriteAsync(paced, response.Bytes, ct).ConfigureAwait(false);
            metrics.BytesOut.Add(response.Bytes.Length, new KeyValuePair<string, object?>("protocol", "store"));
        }
    }

    static TrafficScope ScopeOf(EncodedStoreResponse response) =>
        response.PubsubTopic is null ? TrafficScope.None : new TrafficScope(response.PubsubTopic, response.ContentTopics);
}
