using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;

namespace StoreSync.Waku.Store;

/// <summary>Serves <c>/vac/waku/store-query/3.0.0</c> on a host: one length-prefixed request, one response, then FIN (js-waku reads until FIN).</summary>
/// <remarks>A request that is too large or cut short is answered 400 (nwaku's "decoding rpc failed"); one that
/// stalls (see <see cref="RequestReader"/>) gets its stream reset. Both are logged with the reason.</remarks>
public sealed class StoreQueryService(StoreQueryServer server, WakuMetrics metrics, ILogger<StoreQueryService> logger)
{
    public void Attach(Libp2pHost host) => host.SetStreamHandler(StoreQueryServer.ProtocolId, HandleAsync);

    internal async Task HandleAsync(Libp2pStream stream, CancellationToken ct)
    {
        var peer = stream.RemotePeer.ToString();
        Core.Proto.StoreQueryResponse response;
        try
        {
            var request = await RequestReader.ReadAsync(stream, StoreQueryServer.MaxRequestBytes, ct).ConfigureAwait(false);
            response = server.Answer(request, peer);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
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
        var bytes = response.ToByteArray();
        await LengthPrefixed.WriteAsync(stream, bytes, ct).ConfigureAwait(false);
        metrics.BytesOut.Add(bytes.Length, new KeyValuePair<string, object?>("protocol", "store"));
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
    }
}
