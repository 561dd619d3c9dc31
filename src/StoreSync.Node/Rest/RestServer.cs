using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Node.Communities;
using StoreSync.Node.Hosting;
using StoreSync.Node.Json;
using StoreSync.Storage;
using StoreSync.Storage.Query;
using StoreSync.Waku;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Node.Rest;

/// <summary>The node's REST API on 127.0.0.1 (nwaku's paths and JSON shapes): store queries, health, debug info, push.</summary>
/// <remarks><c>peerAddr</c> on a store query asks that node over libp2p (Store v3) through this node's host, as nwaku does.</remarks>
public sealed class RestServer(NodeOptions options, StoreQueryEngine queries, MessageStore store, MessageIngress ingress, INodeInfo info,
    Libp2pHost host, ILoggerFactory loggerFactory, CommunityRegistry? communities = null, CommunityFiguresSource? communityFigures = null,
    Governor.GovernorEndpoints? governor = null, Discv5Service? discovery = null, Waku.Relay.WakuRelay? relay = null,
    IServedTopics? served = null) : IHostedService, IAsyncDisposable
{
    const long MaxRequestBodyBytes = 1 << 20;

    /// <summary>How long a <c>peerAddr</c> query waits for the remote node (nwaku's futTimeout).</summary>
    public static readonly TimeSpan RemoteQueryTimeout = TimeSpan.FromSeconds(5);
    WebApplication? _app;

    /// <summary>The address actually bound (port 0 resolved), once started.</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, NoHostLifetime>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Parse(options.RestAddress), options.RestPort);
            // A relay publish carries a whole message in base64 (4/3 of its bytes) plus its JSON fields.
            k.Limits.MaxRequestBodySize = Math.Max(MaxRequestBodyBytes, options.MaxMessageBytes / 3 * 4 + 64 * 1024);
            k.Limits.MaxRequestLineSize = 16 * 1024;
        });
        var app = builder.Build();
        Map(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        Address = new Uri(app.Urls.First());
        loggerFactory.CreateLogger<RestServer>().LogInformation("REST API listening on {Address}", Address);
    }

    void Map(WebApplication app)
    {
        app.MapGet("/health", () => Results.Json(new { nodeHealth = "Ready", storedMessages = store.GetStatistics().Messages, connectedPeers = info.ConnectedPeers }));
        app.MapGet("/debug/v1/info", () => Results.Json(new { peerId = info.PeerId, listenAddresses = info.ListenAddresses, enrUri = discovery?.EnrUri ?? "" }));
        app.MapGet("/debug/v1/version", () => Results.Text(typeof(RestServer).Assembly.GetName().Version?.ToString() ?? "0"));
        app.MapGet("/store/v3/messages", (HttpContext http) => StoreQuery(http));
        app.MapPost("/lightpush/v1/message", (HttpContext http) => Push(http, v3: false));
        app.MapPost("/lightpush/v3/message", (HttpContext http) => Push(http, v3: true));
        if (communities is not null && communityFigures is not null) CommunityEndpoints.Map(app, communities, communityFigures);
        governor?.Map(app);
        if (relay is not null && served is not null) new RelayEndpoints(relay, served).Map(app);
    }

    async Task StoreQuery(HttpContext http)
    {
        if (!StoreRestQuery.TryParse(http.Request.Query, out var request, out var error))
        {
            await WriteText(http, StatusCodes.Status400BadRequest, error).ConfigureAwait(false);
            return;
        }
        StoreQueryResponse response;
        var peerAddr = http.Request.Query["peerAddr"].ToString();
        if (string.IsNullOrEmpty(peerAddr))
        {
            response = LocalQuery(request);
        }
        else
        {
            if (!Multiaddr.TryParse(peerAddr, out var address) || address!.PeerId is null)
            {
                await WriteText(http, StatusCodes.Status400BadRequest, $"peerAddr: '{peerAddr}' is not a multiaddr ending in /p2p/<peer id>").ConfigureAwait(false);
                return;
            }
            if (address.PeerId == host.PeerId)
            {
                response = LocalQuery(request); // a host cannot dial itself; nwaku answers from its own store too
            }
            else if (await QueryRemoteAsync(http, address, request).ConfigureAwait(false) is { } remote)
            {
                response = remote;
            }
            else return;
            if (response.StatusCode == WakuStatus.TooManyRequests)
            {
                await WriteText(http, StatusCodes.Status429TooManyRequests, "Request rate limit reached").ConfigureAwait(false);
                return;
            }
        }
        http.Response.StatusCode = response.StatusCode == WakuStatus.ServiceUnavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        http.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(http.Response.Body);
        MessageJson.WriteResponse(json, response);
        await json.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A query of the local store, through the community policy (503 for a community not served, hidden rows left out).</summary>
    StoreQueryResponse LocalQuery(StoreQueryRequest request)
    {
        var policy = communities?.Policy;
        return policy?.QueryRefusal(request) is { } refusal
            ? new StoreQueryResponse { RequestId = request.RequestId, StatusCode = WakuStatus.ServiceUnavailable, StatusDesc = refusal }
            : queries.Execute(request, policy);
    }

    /// <summary>One Store v3 query to another node; on failure writes HTTP 500 with the reason (nwaku's answer) and returns null.</summary>
    async Task<StoreQueryResponse?> QueryRemoteAsync(HttpContext http, Multiaddr address, StoreQueryRequest request)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        deadline.CancelAfter(RemoteQueryTimeout);
        string failure;
        try
        {
            return await new StoreQueryClient(host, governor?.Resources).QueryAsync(address, request, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            failure = $"No history response received (timeout): {address} did not answer within {RemoteQueryTimeout.TotalSeconds:0} s";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Dial, handshake, negotiation or decoding failed: the operator gets the reason instead of a hang or a bare 500.
            failure = $"store query to {address} failed: {e.Message}";
        }
        loggerFactory.CreateLogger<RestServer>().LogInformation("REST store query with peerAddr: {Reason}", failure);
        await WriteText(http, StatusCodes.Status500InternalServerError, failure).ConfigureAwait(false);
        return null;
    }

    async Task Push(HttpContext http, bool v3)
    {
        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted).ConfigureAwait(false);
        var record = MessageJson.ParseRecord(body.GetBuffer().AsSpan(0, (int)body.Length), 1);
        IngressResult result = record.Error is { } parseError
            ? new IngressResult(IngressRejection.Invalid, default, false, parseError)
            : ingress.Accept(record.PubsubTopic!, record.Message!, record.ClaimedHash, "rest");
        if (v3)
        {
            http.Response.StatusCode = result.Accepted ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest;
            await http.Response.WriteAsJsonAsync(new { statusCode = result.Accepted ? 200 : 400, statusDesc = result.Accepted ? "OK" : result.Error, relayPeerCount = 0 },
                http.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            await WriteText(http, result.Accepted ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest, result.Accepted ? "OK" : result.Error).ConfigureAwait(false);
        }
    }

    static async Task WriteText(HttpContext http, int status, string text)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/plain; charset=utf-8";
        await http.Response.WriteAsync(text, http.RequestAborted).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync().ConfigureAwait(false);
    }
}
