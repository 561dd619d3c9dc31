using Microsoft.Extensions.Logging;
using StoreSync.Core.Wire;
using StoreSync.Libp2p.Host;

namespace StoreSync.Waku;

/// <summary>The skeleton every Waku request/response protocol shares: one length-prefixed request, one answer, then FIN
/// (js-waku reads until FIN).</summary>
/// <remarks>A request that is too large, cut short or malformed on the wire is answered with the protocol's refusal, so the
/// peer learns why; one that stalls or never starts (see <see cref="RequestReader"/>) gets its stream reset, since nothing
/// was asked. Both are logged with the reason.</remarks>
public static class RequestResponseHandler
{
    public static async Task HandleAsync<TResponse>(Libp2pStream stream, IRequestResponder<TResponse> responder, ILogger logger,
        CancellationToken ct)
    {
        TResponse response;
        try
        {
            var request = await RequestReader.ReadAsync(stream, responder.MaxRequestBytes, ct).ConfigureAwait(false);
            response = await responder.AnswerAsync(request, stream, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or ProtocolViolationException or EndOfStreamException)
        {
            logger.Log(responder.RefusalLevel, "Unreadable {Request} from {Peer}: {Reason}", responder.Name, stream.RemotePeer, e.Message);
            response = responder.Unreadable(e.Message, stream);
        }
        catch (StreamIdleException)
        {
            stream.Reset(); // an idle stream at shutdown: nothing was asked, nothing is lost
            return;
        }
        catch (TimeoutException e)
        {
            logger.Log(responder.RefusalLevel, "Abandoned {Request} from {Peer}: {Reason}; resetting the stream", responder.Name,
                stream.RemotePeer, e.Message);
            stream.Reset();
            return;
        }
        await responder.WriteAsync(stream, response, ct).ConfigureAwait(false);
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
        await responder.AfterResponseAsync(stream).ConfigureAwait(false);
    }
}
