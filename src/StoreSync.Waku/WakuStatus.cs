namespace StoreSync.Waku;

/// <summary>nwaku's status codes of the Waku request/response protocols (store v3, light push v3) and the descriptions it sends with them.</summary>
/// <remarks>
/// Store v3 uses 200, 300, 400, 429, 503 and 504 (waku_store/common.nim); light push v3 uses 200, 400, 413, 420, 421, 429, 500 and 503
/// (19/WAKU2-LIGHTPUSH). REST and the CLI read the same codes from the responses they relay.
/// </remarks>
public static class WakuStatus
{
    public const uint Success = 200;

    /// <summary>Store v3: the archive failed the query (nwaku maps every archive error to 300).</summary>
    public const uint BadResponse = 300;

    public const uint BadRequest = 400;
    public const uint PayloadTooLarge = 413;

    /// <summary>Light push: the message itself was refused.</summary>
    public const uint InvalidMessage = 420;

    /// <summary>Light push: this node does not take messages of that pubsub topic (another node may).</summary>
    public const uint UnsupportedPubsubTopic = 421;

    public const uint TooManyRequests = 429;
    public const uint InternalServerError = 500;
    public const uint ServiceUnavailable = 503;

    /// <summary>Store v3: a peer to forward to could not be dialled.</summary>
    public const uint PeerDialFailure = 504;

    /// <summary>The description of <see cref="Success"/>.</summary>
    public const string SuccessDescription = "OK";

    /// <summary>The description of <see cref="TooManyRequests"/> when a peer's rate limit refused the request.</summary>
    public const string TooManyRequestsDescription = "TOO_MANY_REQUESTS";

    /// <summary>The description of <see cref="ServiceUnavailable"/> when the store is shutting down.</summary>
    public const string ServiceUnavailableDescription = "SERVICE_UNAVAILABLE";

    /// <summary>The description of <see cref="BadRequest"/> for a request that could not be read or decoded.</summary>
    public static string DecodingFailed(string reason) => $"decoding rpc failed: {reason}";
}
