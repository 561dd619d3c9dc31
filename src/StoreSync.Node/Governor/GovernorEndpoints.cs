using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StoreSync.Libp2p;
using StoreSync.Node.Dashboard;
using StoreSync.Waku.Governor;

namespace StoreSync.Node.Governor;

/// <summary>REST endpoints of the governor and the dashboard (spec/node.md): figures, live bandwidth limits, the page itself.</summary>
/// <remarks>Changing limits and the dashboard are answered only to loopback clients, whatever address the REST API is bound to.</remarks>
public sealed class GovernorEndpoints(BandwidthSettings settings, ResourceGovernor governor, FiguresReport figures, IResourceGovernor realtime)
{
    const string Prefix = "/admin/v1";
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The governor as the protocol code sees it (for the REST API's own remote queries).</summary>
    public IResourceGovernor Resources => realtime;

    public void Map(WebApplication app)
    {
        // REST push is realtime ingest: its bodies are charged (never delayed) so history traffic yields to them.
        app.Use(async (http, next) =>
        {
            if (!HttpMethods.IsPost(http.Request.Method) || !http.Request.Path.StartsWithSegments("/lightpush")) { await next(http); return; }
            var counting = new CountingStream(http.Request.Body);
            http.Request.Body = counting;
            await next(http);
            realtime.RealtimeIn((int)Math.Min(int.MaxValue, counting.Count));
        });

        app.MapGet(Prefix + "/figures", () => Results.Json(figures.Build(), Json));
        app.MapGet(Prefix + "/bandwidth", () => Results.Json(Limits(), Json));
        app.MapPut(Prefix + "/bandwidth", (Func<HttpContext, Task<IResult>>)(http => SetAsync(http, null)));
        app.MapPut(Prefix + "/bandwidth/communities/{name}", (string name, HttpContext http) => SetAsync(http, name));
        app.MapGet("/dashboard", (HttpContext http) => IsLocal(http) ? Results.Content(DashboardPage.Html, "text/html; charset=utf-8") : Results.StatusCode(403));
        app.MapGet("/", () => Results.Redirect("/dashboard"));
    }

    object Limits() => new
    {
        global = governor.Global.Limits,
        burstSeconds = governor.Global.BurstSeconds,
        communities = governor.CommunityLimits,
    };

    async Task<IResult> SetAsync(HttpContext http, string? community)
    {
        if (!IsLocal(http)) return Results.Text("limits can be changed from this machine only", statusCode: 403);
        if (community is not null && !IsCommunityName(community)) return Results.Text($"'{community}' is not a community name", statusCode: 400);
        BandwidthLimitOptions? limits;
        try { limits = await JsonSerializer.DeserializeAsync<BandwidthLimitOptions>(http.Request.Body, Json, http.RequestAborted); }
        catch (JsonException e) { return Results.Text("body is not {uploadBytesPerSecond, downloadBytesPerSecond}: " + e.Message, statusCode: 400); }
        if (limits is null) return Results.Text("body is empty", statusCode: 400);
        try { settings.Set(community, limits); }
        catch (ArgumentException e) { return Results.Text(e.Message, statusCode: 400); }
        return Results.Json(Limits(), Json);
    }

    static bool IsLocal(HttpContext http) => http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip);

    /// <summary>Same alphabet as community names (a-z 0-9 . _ -, at most 64), so a URL cannot create accounts under arbitrary names.</summary>
    static bool IsCommunityName(string name) =>
        name.Length is > 0 and <= 64 && (char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0]))
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-');

    /// <summary>Counts the bytes read through it.</summary>
    sealed class CountingStream(Stream inner) : ReadOnlyStream
    {
        public long Count;
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            int n = await inner.ReadAsync(buffer, ct).ConfigureAwait(false);
            Count += n;
            return n;
        }
        public override int Read(byte[] buffer, int offset, int count) { int n = inner.Read(buffer, offset, count); Count += n; return n; }
    }
}
