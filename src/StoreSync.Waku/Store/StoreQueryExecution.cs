using StoreSync.Storage.Query;
using StoreSync.Waku.Proto;

namespace StoreSync.Waku.Store;

/// <summary>A Store v3 request answered by the <see cref="StoreQueryEngine"/>: the request mapped to a <see cref="StoreQuery"/>, the
/// result rendered by <see cref="StoreQueryResponseEncoder"/>.</summary>
public static class StoreQueryExecution
{
    /// <summary>The store's view of a wire request, field for field (absent fields stay absent).</summary>
    public static StoreQuery ToQuery(this StoreQueryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ReadOnlyMemory<byte>[] hashes = request.MessageHashes.Count == 0 ? [] : new ReadOnlyMemory<byte>[request.MessageHashes.Count];
        for (int i = 0; i < hashes.Length; i++) hashes[i] = request.MessageHashes[i].Memory;
        return new StoreQuery
        {
            RequestId = request.RequestId,
            PubsubTopic = request.HasPubsubTopic ? request.PubsubTopic : null,
            ContentTopics = request.ContentTopics,
            TimeStart = request.HasTimeStart ? request.TimeStart : null,
            TimeEnd = request.HasTimeEnd ? request.TimeEnd : null,
            MessageHashes = hashes,
            Cursor = request.HasPaginationCursor ? request.PaginationCursor.Memory : (ReadOnlyMemory<byte>?)null,
            IncludeData = request.IncludeData,
            Forward = request.PaginationForward,
            Limit = request.HasPaginationLimit ? request.PaginationLimit : null,
        };
    }

    /// <summary>Answers <paramref name="request"/> as a response object (REST and the CLI render it as JSON).</summary>
    public static StoreQueryResponse Execute(this StoreQueryEngine engine, StoreQueryRequest request, IStoreVisibility? visibility = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        using var result = engine.ExecuteWithMessages(request.ToQuery(), visibility);
        return StoreQueryResponseEncoder.ToResponse(request.RequestId, result);
    }

    /// <summary>As <see cref="Execute"/>, encoded: the same bytes as its response's <c>ToByteArray()</c>, with each message copied from
    /// its stored form instead of parsed and serialised again. Dispose it once written.</summary>
    public static EncodedStoreResponse ExecuteEncoded(this StoreQueryEngine engine, StoreQueryRequest request, IStoreVisibility? visibility = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        using var result = engine.Execute(request.ToQuery(), visibility);
        return StoreQueryResponseEncoder.Encode(request.RequestId, result);
    }
}
