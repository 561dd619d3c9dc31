using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Core.Proto;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Peers;
using StoreSync.Waku.Proto;
using StoreSync.Waku.RateLimiting;
using StoreSync.Waku.Relay;

namespace StoreSync.Waku.LightPush;

/// <summary>Light push, both versions js-waku speaks: pushed messages are validated, hashed and stored, then (v3, when the node
/// runs relay) published to relay as nwaku's light push service does, the answer naming the relay peers reached.</summary>
/// <remarks>Requests are counted by status code in <c>storesync_lightpush_requests</c> when metrics are given.</remarks>
public sealed class LightPushServer(MessageIngress ingress, PerPeerRateLimiter limiter, ILogger<LightPushServer> logger, WakuMetrics? metrics = null,
    PeerPenalties? penalties = null, WakuRelay? relay = null)
{
    public const string ProtocolIdV3 = "/vac/waku/lightpush/3.0.0";
    public const string ProtocolIdLegacy = "/vac/waku/lightpush/2.0.0-beta1";

    /// <summary>nwaku's DefaultMaxRpcSize: the largest message plus 64 KiB of envelope.</summary>
    public static int MaxRequestBytes(int maxMessageBytes) => maxMessageBytes + 64 * 1024;

    /// <summary>Answers a v3 request (LightpushRequest → LightpushResponse).</summary>
    public LightpushResponse AnswerV3(ReadOnlySpan<byte> requestBytes, string peer) => AnswerV3(requestBytes, peer, out _);

    /// <summary>Answers a v3 request and, once the message is stored, publishes it to relay: <c>relay_peer_count</c> is the
    /// number of relay peers it was sent to (left unset when none: the message is stored all the same, which is what a store
    /// node's 200 means; nwaku answers 505 there, having nothing else to offer).</summary>
    public async ValueTask<LightpushResponse> AnswerV3Async(byte[] requestBytes, string peer, CancellationToken ct)
    {
        var response = AnswerV3(requestBytes, peer, out var stored);
        if (stored is not { } push || relay is null || !relay.CanPublish || !relay.Subscriptions.Contains(push.PubsubTopic)) return response;
        try
        {
            int peers = await relay.PublishAsync(push.PubsubTopic, push.Message, ct).ConfigureAwait(false);
            if (peers > 0) response.RelayPeerCount = (uint)peers;
        }
        catch (RelayPublishException e)
        {
            // Stored: the push succeeded for this node; relay refused it (already seen there, or no route). Say so in the log only.
            logger.LogDebug("Light push from {Peer} stored, not relayed: {Reason}", peer, e.Reason);
        }
        return response;
    }

    LightpushResponse AnswerV3(ReadOnlySpan<byte> requestBytes, string peer, out (string PubsubTopic, WakuMessage Message)? stored)
    {
        stored = null;
        LightpushRequest request;
        try
        {
            request = LightpushRequest.Parser.ParseFrom(requestBytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            logger.LogInformation("Light push from {Peer} not decodable: {Reason}", peer, e.Message);
            return UnreadableV3(e.Message);
        }
        var response = new LightpushResponse { RequestId = request.RequestId };
        if (penalties?.IsRefused(peer) == true) return Set(response, WakuStatus.TooManyRequests, "refused: this peer sent too many bad messages");
        if (!limiter.TryAcquire(peer))
            return Set(response, WakuStatus.TooManyRequests, WakuStatus.TooManyRequestsDescription);
        if (request.Message is null) return Set(response, WakuStatus.BadRequest, "message is missing");
        if (!request.HasPubsubTopic)
            return Set(response, WakuStatus.BadRequest, "pubsub_topic is required: this node does not derive shards from content topics (autosharding)");
        var result = Accept(request.PubsubTopic, request.Message, peer);
        if (!result.Accepted) return Set(response, StatusFor(result.Rejection), result.Error);
        stored = (request.PubsubTopic, request.Message);
        return Set(response, WakuStatus.Success, WakuStatus.SuccessDescription);
    }

    /// <summary>421 for what this node does not take (topic, community): another node may; 420 for the message itself.</summary>
    static uint StatusFor(IngressRejection rejection) => rejection switch
    {
        IngressRejection.UnservedTopic or IngressRejection.NotOptedIn or IngressRejection.NotInCommunity or IngressRejection.BelowRetentionHorizon
            => WakuStatus.UnsupportedPubsubTopic,
        _ => WakuStatus.InvalidMessage,
    };

    IngressResult Accept(string pubsubTopic, WakuMessage message, string peer)
    {
        var result = ingress.Accept(pubsubTopic, message, source: peer);
        if (!result.Accepted && penalties?.Penalise(peer, PeerPenalties.PointsFor(result.Rejection)) == true)
            logger.LogWarning("Peer {Peer} reached {Threshold} penalty points by light push (last: {Reason}); disconnecting it", peer, penalties.Threshold, result.Rejection);
        return result;
    }

    /// <summary>Whether the peer has reached the penalty threshold (the service closes its connection after answering).</summary>
    public bool ShouldDisconnect(string peer) => penalties?.IsRefused(peer) == true;

    /// <summary>Answers a legacy v2 request (PushRpc with a request → PushRpc with a response).</summary>
    public PushRpc AnswerLegacy(ReadOnlySpan<byte> requestBytes, string peer)
    {
        PushRpc rpc;
        try
        {
            rpc = PushRpc.Parser.ParseFrom(requestBytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            logger.LogInformation("Legacy light push from {Peer} not decodable: {Reason}", peer, e.Message);
            return UnreadableLegacy(e.Message);
        }
        if (penalties?.IsRefused(peer) == true) return Legacy(rpc.RequestId, false, "refused: this peer sent too many bad messages");
        if (!limiter.TryAcquire(peer)) return Legacy(rpc.RequestId, false, WakuStatus.TooManyRequestsDescription);
        if (rpc.Request?.Message is null) return Legacy(rpc.RequestId, false, "request or message is missing");
        var result = Accept(rpc.Request.PubsubTopic, rpc.Request.Message, peer);
        return Legacy(rpc.RequestId, result.Accepted, result.Accepted ? WakuStatus.SuccessDescription : result.Error);
    }

    /// <summary>The v3 answer to a request that could not be read or decoded (nwaku's request id "N/A").</summary>
    public LightpushResponse UnreadableV3(string reason) =>
        Set(new LightpushResponse { RequestId = "N/A" }, WakuStatus.BadRequest, WakuStatus.DecodingFailed(reason));

    /// <summary>The legacy answer to a request that could not be read or decoded.</summary>
    public PushRpc UnreadableLegacy(string reason) => Legacy("", false, WakuStatus.DecodingFailed(reason));

    LightpushResponse Set(LightpushResponse response, uint status, string description)
    {
        response.StatusCode = status;
        response.StatusDesc = description;
        Count("3", status);
        return response;
    }

    PushRpc Legacy(string requestId, bool success, string info)
    {
        Count("2", success ? WakuStatus.Success : info == WakuStatus.TooManyRequestsDescription ? WakuStatus.TooManyRequests : WakuStatus.BadRequest);
        return new() { RequestId = requestId, Response = new PushResponse { IsSuccess = success, Info = info } };
    }

    void Count(string version, uint status) => metrics?.LightPushRequests.Add(1,
        new KeyValuePair<string, object?>("version", version), new KeyValuePair<string, object?>("status_code", (int)status));
}
