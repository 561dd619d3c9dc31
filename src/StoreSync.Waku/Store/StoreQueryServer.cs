using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Storage.Query;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Proto;
using StoreSync.Waku.RateLimiting;

namespace StoreSync.Waku.Store;

/// <summary>Answers Store v3 queries (<c>/vac/waku/store-query/3.0.0</c>): one length-prefixed request in, one response out.</summary>
/// <remarks>Messages served are counted per requested pubsub topic when it is one the node serves (<paramref name="servedTopics"/>), else as "other".</remarks>
public sealed class StoreQueryServer(StoreQueryEngine engine, PerPeerRateLimiter limiter, WakuMetrics metrics, ILogger<StoreQueryServer> logger,
    IServedTopics? servedTopics = null, CommunityPolicy? communities = null)
{
    public const string ProtocolId = "/vac/waku/store-query/3.0.0";

    /// <summary>A request holds at most 100 hashes and a few topics; 64 KiB is far above any honest one.</summary>
    public const int MaxRequestBytes = 64 * 1024;

    /// <summary>nwaku's request id for a request it could not decode.</summary>
    public const string NotParsedRequestId = "not_parsed_requestId";

    /// <summary>Builds the encoded response to one encoded request from <paramref name="peer"/> (dispose it once written).</summary>
    /// <remarks>Pages come from <see cref="StoreQueryExecution.ExecuteEncoded"/>: stored messages are copied into the response, not
    /// parsed and serialised again.</remarks>
    public EncodedStoreResponse Answer(ReadOnlySpan<byte> requestBytes, string peer)
    {
        long started = Stopwatch.GetTimestamp();
        metrics.BytesIn.Add(requestBytes.Length, new KeyValuePair<string, object?>("protocol", "store"));
        StoreQueryRequest request;
        try
        {
            request = StoreQueryRequest.Parser.ParseFrom(requestBytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            logger.LogInformation("Store query from {Peer} not decodable: {Reason}", peer, e.Message);
            return Count(Error(NotParsedRequestId, WakuStatus.BadRequest, WakuStatus.DecodingFailed(e.Message)), started);
        }
        if (!limiter.TryAcquire(peer))
            return Count(Error(request.RequestId, WakuStatus.TooManyRequests, WakuStatus.TooManyRequestsDescription), started);

        if (communities?.QueryRefusal(request) is { } refusal)
            return Count(Error(request.RequestId, WakuStatus.ServiceUnavailable, refusal), started);
        var response = engine.ExecuteEncoded(request, communities);
        metrics.MessagesServed.Add(response.MessageCount,
            new KeyValuePair<string, object?>("pubsub_topic", WakuMetrics.TopicLabel(servedTopics, request.HasPubsubTopic ? request.PubsubTopic : null)));
        return Count(response, started);
    }

    /// <summary>The response to a request that could not be read at all (too large, truncated).</summary>
    public EncodedStoreResponse Unreadable(string reason) => Error(NotParsedRequestId, WakuStatus.BadRequest, WakuStatus.DecodingFailed(reason));

    EncodedStoreResponse Count(EncodedStoreResponse response, long started)
    {
        metrics.Queries.Add(1, new KeyValuePair<string, object?>("status_code", (int)response.StatusCode));
        metrics.QueryDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return response;
    }

    static EncodedStoreResponse Error(string requestId, uint status, string description) => EncodedStoreResponse.Failure(requestId, status, description);
}
