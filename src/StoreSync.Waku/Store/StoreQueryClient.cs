using Google.Protobuf;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Bandwidth;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Waku.Governor;
using StoreSync.Waku.Proto;

namespace StoreSync.Waku.Store;

/// <summary>Queries a remote store node over <c>/vac/waku/store-query/3.0.0</c>.</summary>
/// <remarks>With a governor, the response is history download (paced by its download chain for the request's topics).</remarks>
public sealed class StoreQueryClient(Libp2pHost host, IResourceGovernor? governor = null)
{
    /// <summary>A page holds at most 100 messages of at most 150 KiB plus envelopes; 32 MiB bounds any honest response.</summary>
    public const int MaxResponseBytes = 32 << 20;

    public async Task<StoreQueryResponse> QueryAsync(Multiaddr peer, StoreQueryRequest request, CancellationToken ct)
    {
        var stream = await host.NewStreamAsync(peer, StoreQueryServer.ProtocolId, ct).ConfigureAwait(false);
        return await ExchangeAsync(stream, peer.ToString(), request, ct).ConfigureAwait(false);
    }

    /// <summary>As <see cref="QueryAsync(Multiaddr, StoreQueryRequest, CancellationToken)"/>, to a peer whose address the host knows.</summary>
    public async Task<StoreQueryResponse> QueryAsync(PeerId peer, StoreQueryRequest request, CancellationToken ct)
    {
        var stream = await host.NewStreamAsync(peer, StoreQueryServer.ProtocolId, ct).ConfigureAwait(false);
        return await ExchangeAsync(stream, peer.ToString(), request, ct).ConfigureAwait(false);
    }

    async Task<StoreQueryResponse> ExchangeAsync(Libp2pStream opened, string peer, StoreQueryRequest request, CancellationToken ct)
    {
        await using var stream = opened;
        Stream io = stream;
        if (governor is not null)
        {
            var scope = new TrafficScope(request.HasPubsubTopic ? request.PubsubTopic : null, request.ContentTopics);
            io = new ThrottledStream(stream, governor.HistoryDownload(scope), governor.HistoryUpload(scope));
        }
        await LengthPrefixed.WriteAsync(io, request.ToByteArray(), ct).ConfigureAwait(false);
        await stream.CloseWriteAsync(ct).ConfigureAwait(false);
        var bytes = await LengthPrefixed.ReadAsync(io, MaxResponseBytes, ct).ConfigureAwait(false);
        try
        {
            return StoreQueryResponse.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"store response from {peer} does not decode: {e.Message}", e);
        }
    }

    /// <summary>Follows cursors through every page (bounded by <paramref name="maxPages"/>).</summary>
    public async IAsyncEnumerable<StoreQueryResponse> QueryAllAsync(Multiaddr peer, StoreQueryRequest request, int maxPages = 100_000,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var next = request.Clone();
        for (int page = 0; page < maxPages; page++)
        {
            var response = await QueryAsync(peer, next, ct).ConfigureAwait(false);
            yield return response;
            if (response.StatusCode != WakuStatus.Success || !response.HasPaginationCursor) yield break;
            next.PaginationCursor = response.PaginationCursor;
        }
    }
}
