using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p;
using StoreSync.Storage.Query;
using StoreSync.Libp2p.Bandwidth;
using StoreSync.Libp2p.Host;
using StoreSync.Waku.Governor;

namespace StoreSync.Waku.Store;

/// <summary>Serves <c>/vac/waku/store-query/3.0.0</c> on a host: one length-prefixed request, one response, then FIN (js-waku reads until FIN).</summary>
/// <remarks>A request that is too large or cut short is answered 400 (nwaku's "decoding rpc failed"); one that
/// stalls (see <see cref="RequestReader"/>) gets its stream reset. Both are logged with the reason.
/// The response is history traffic: it is written through the governor's upload chain for the topics it carries, so a
/// response larger than a burst is paced, not refused. The CPU time of answering (decode, query, encode) is booked to the same scope.</remarks>
public sealed class StoreQueryService(StoreQueryServer server, WakuMetrics metrics, ILogger<StoreQueryService> logger,
    IResourceGovernor? governor = null)
{
    readonly IResourceGovernor _governor = governor ?? UnlimitedGovernor.Instance;

    public void Attach(Libp2pHost host) => host.SetStreamHandler(StoreQueryServer.ProtocolId, HandleAsync);

    internal async Task HandleAsync(Libp2pStream stream, CancellationToken ct)
    {
        var peer = stream.RemotePeer.ToString();
        EncodedStoreResponse response;
        long cpuStarted = 0;
        try
        {
            var request = await RequestReader.ReadAsync(stream, StoreQueryServer.MaxRequestBytes, ct).ConfigureAwait(false);
            cpuStarted = ThreadCpuTime.Now();
            response = server.Answer(request, peer);
        }
        catch (Exception e) when (e is InvalidDataException or Core.Wire.ProtocolViolationException or EndOfStreamException)
        {
            logger.LogInformation("Unreadable store query from {Peer}: {Reason}", peer, e.Message);
            response = server.Unreadable(e.Message);
        }
        catch (StreamIdleException)
        {
            stream.Reset(); // an idle stream at shutdown: nothing was asked, nothing is lost
            return;
        }
        catch (TimeoutException e)
        {
            logger.LogInformation("Store query from {Peer} abandoned: {Reason}; resetting the stream", peer, e.Message);
            stream.Reset();
            return;
        }
        using (response)
        {
            var scope = response.PubsubTopic is null ? TrafficScope.None : new TrafficScope(response.PubsubTopic, response.ContentTopics);
            if (cpuStarted != 0) _governor.RecordCpu(StoreQueryServer.ProtocolId, scope, ThreadCpuTime.Now() - cpuStarted);
            var paced = new ThrottledStream(stream, BandwidthChain.Unlimited, _governor.HistoryUpload(scope));
            await LengthPrefixed.WriteAsync(paced, response.Bytes, ct).ConfigureAwait(false);
            metrics.BytesOut.Add(response.Bytes.Length, new KeyValuePair<string, object?>("protocol", "store"));
        }
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
    }
}
