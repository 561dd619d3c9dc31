using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StoreSync.Node.Communities;
using StoreSync.Waku.Communities;

namespace StoreSync.Node.Rest;

/// <summary>The community admin API (<c>/admin/v1/...</c>), answered on the loopback interface only (spec/communities.md).</summary>
public static class CommunityEndpoints
{
    const string Prefix = "/admin/v1";

    static readonly JsonSerializerOptions Json = CommunityStateFile.Json;

    public static void Map(WebApplication app, CommunityRegistry registry, CommunityFiguresSource figures)
    {
        // Whatever address the REST API listens on, the admin API changes what the node stores: local callers only.
        app.Use(async (http, next) =>
        {
            if (http.Request.Path.StartsWithSegments(Prefix) && !IsAdminCaller(http.Connection.RemoteIpAddress))
            {
                await Error(http, StatusCodes.Status403Forbidden, "the admin API answers on the loopback interface only").ConfigureAwait(false);
                return;
            }
            await next(http).ConfigureAwait(false);
        });

        app.MapGet(Prefix + "/communities", () => Results.Json(new
        {
            storeUnlisted = registry.Policy.StoreUnlisted,
            storeUnlistedSetting = registry.StoreUnlistedSetting,
            maxStoreBytes = registry.MaxStoreBytes,
            communities = figures.All().Select(ToJson).ToList(),
        }, Json));
        app.MapGet(Prefix + "/communities/{name}", (string name, HttpContext http) => Guard(http, () => Results.Json(ToJson(figures.Of(name)), Json)));
        app.MapPut(Prefix + "/communities/{name}", (string name, HttpContext http) => GuardAsync(http, async () =>
        {
            var body = await ReadObjectAsync(http).ConfigureAwait(false);
            if (body["name"] is { } given && given.GetValueKind() == JsonValueKind.String && given.GetValue<string>() != name)
                throw new CommunityException(CommunityError.Invalid, $"the body names community '{given.GetValue<string>()}' but the path names '{name}'");
            body["name"] = name;
            var definition = Deserialize(body);
            if (http.Request.Headers.IfNoneMatch == "*" && registry.Communities.Any(c => c.Name == name))
                throw new CommunityException(CommunityError.Conflict, $"community {name} exists already (use PATCH, or 'storesync community set')");
            bool added = registry.Put(definition);
            return Results.Json(ToJson(figures.Of(name)), Json, statusCode: added ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }));
        app.MapMethods(Prefix + "/communities/{name}", ["PATCH"], (string name, HttpContext http) => GuardAsync(http, async () =>
        {
            var patch = await ReadObjectAsync(http).ConfigureAwait(false);
            if (patch["name"] is { } given && (given.GetValueKind() != JsonValueKind.String || given.GetValue<string>() != name))
                throw new CommunityException(CommunityError.Invalid, "a community cannot be renamed (remove it and add it under the new name)");
            // JSON merge patch (RFC 7386) on the definition's top-level fields: a member replaces, null clears (ownerKey).
            var current = JsonSerializer.SerializeToNode(registry.Get(name), Json)!.AsObject();
            foreach (var (key, value) in patch) current[key] = value?.DeepClone();
            registry.Put(Deserialize(current));
            return Results.Json(ToJson(figures.Of(name)), Json);
        }));
        app.MapDelete(Prefix + "/communities/{name}", (string name, HttpContext http) => Guard(http, () =>
        {
            bool deleteData = Flag(http, "deleteData");
            registry.Remove(name, deleteData);
            return Results.Json(new { removed = name, deletion = DeletionJson(registry.DeletionOf(name)) }, Json);
        }));
        app.MapPost(Prefix + "/communities/{name}/enable", (string name, HttpContext http) => Guard(http, () =>
        {
            registry.SetOptedIn(name, true, deleteData: false);
            return Results.Json(ToJson(figures.Of(name)), Json);
        }));
        app.MapPost(Prefix + "/communities/{name}/disable", (string name, HttpContext http) => Guard(http, () =>
        {
            registry.SetOptedIn(name, false, Flag(http, "deleteData"));
            return Results.Json(ToJson(figures.Of(name)), Json);
        }));
        app.MapGet(Prefix + "/settings", () => Results.Json(Settings(registry), Json));
        app.MapMethods(Prefix + "/settings", ["PATCH"], (Func<HttpContext, Task<IResult>>)(http => GuardAsync(http, async () =>
        {
            var patch = await ReadObjectAsync(http).ConfigureAwait(false);
            bool? storeUnlisted = registry.StoreUnlistedSetting;
            long maxStoreBytes = registry.MaxStoreBytes;
            foreach (var (key, value) in patch)
            {
                switch (key)
                {
                    case "storeUnlisted":
                        storeUnlisted = value is null ? null
                            : value.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? value.GetValue<bool>()
                            : throw new CommunityException(CommunityError.Invalid, "storeUnlisted must be true, false or null (only while no community is defined)");
                        break;
                    case "maxStoreBytes":
                        maxStoreBytes = value is not null && value.GetValueKind() == JsonValueKind.Number && value.AsValue().TryGetValue(out long n) ? n
                            : throw new CommunityException(CommunityError.Invalid, "maxStoreBytes must be a whole number of bytes (0 = no global limit)");
                        break;
                    default:
                        throw new CommunityException(CommunityError.Invalid, $"unknown setting '{key}' (settings: storeUnlisted, maxStoreBytes)");
                }
            }
            registry.SetSettings(storeUnlisted, maxStoreBytes);
            return Results.Json(Settings(registry), Json);
        })));
    }

    /// <summary>Loopback callers only (IPv4, IPv6, and IPv4 mapped into IPv6); an unknown address is refused.</summary>
    internal static bool IsAdminCaller(IPAddress? remote) =>
        remote is not null && (IPAddress.IsLoopback(remote) || (remote.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(remote.MapToIPv4())));

    static object Settings(CommunityRegistry registry) => new
    {
        storeUnlisted = registry.Policy.StoreUnlisted,
        storeUnlistedSetting = registry.StoreUnlistedSetting,
        maxStoreBytes = registry.MaxStoreBytes,
    };

    /// <summary>The JSON of one community: its definition, control topic, serving state, stored figures, counters and data deletion.</summary>
    public static object ToJson(CommunityFigures f)
    {
        var d = f.Definition;
        var c = f.Counters;
        return new
        {
            name = d.Name,
            pubsubTopics = d.PubsubTopics,
            contentTopics = d.ContentTopics,
            ownerKey = d.OwnerKey,
            optedIn = d.OptedIn,
            requireAuthorSignature = d.RequireAuthorSignature,
            maxBytes = d.MaxBytes,
            priority = d.Priority,
            controlTopic = d.OwnerKey is null ? null : CommunityControl.ContentTopicFor(d.OwnerKey),
            state = new
            {
                serving = f.State.Serving,
                reason = f.State.Reason,
                optedIn = f.State.OptedIn,
                ownerServing = f.State.OwnerServing,
                ownerSwitchTimestamp = f.State.OwnerSwitchTimestamp,
                members = f.State.Members,
                membersTimestamp = f.State.MembersTimestamp,
            },
            stored = new { messages = f.StoredMessages, bytes = f.StoredBytes, oldest = f.Oldest, newest = f.Newest },
            rejected = new
            {
                notOptedIn = c.NotOptedIn,
                unauthorised = c.Unauthorised,
                controlInvalid = c.ControlInvalid,
                queriesRefused = c.QueriesRefused,
                syncRefused = c.SyncRefused,
            },
            control = new { applied = c.ControlApplied, stale = c.ControlStale, invalid = c.ControlInvalid },
            limits = new
            {
                maxBytes = d.MaxBytes,
                priority = d.Priority,
                enforced = f.LimitsEnforced,
                note = f.LimitsNote,
                retentionHorizon = f.RetentionHorizon,
            },
            deletion = DeletionJson(f.Deletion),
        };
    }

    static object? DeletionJson(CommunityDataDeletion? job) => job is null ? null : new
    {
        state = job.State,
        deleted = job.Deleted,
        examined = job.Examined,
        total = job.Total,
        startedAt = job.StartedAt,
        finishedAt = job.FinishedAt,
        error = job.Error,
    };

    static bool Flag(HttpContext http, string name)
    {
        var text = http.Request.Query[name].ToString();
        if (text.Length == 0) return false;
        return bool.TryParse(text, out bool value) ? value : throw new CommunityException(CommunityError.Invalid, $"{name} must be true or false, not '{text}'");
    }

    static CommunityDefinition Deserialize(JsonObject body)
    {
        try
        {
            return body.Deserialize<CommunityDefinition>(Json) ?? throw new CommunityException(CommunityError.Invalid, "the body is null");
        }
        catch (JsonException e)
        {
            throw new CommunityException(CommunityError.Invalid, $"the body is not a community definition: {e.Message}");
        }
    }

    static async Task<JsonObject> ReadObjectAsync(HttpContext http)
    {
        try
        {
            var node = await JsonNode.ParseAsync(http.Request.Body, documentOptions: new JsonDocumentOptions { MaxDepth = 8 }, cancellationToken: http.RequestAborted).ConfigureAwait(false);
            return node as JsonObject ?? throw new CommunityException(CommunityError.Invalid, "the body must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new CommunityException(CommunityError.Invalid, $"the body is not JSON: {e.Message}");
        }
    }

    static Task<IResult> Guard(HttpContext http, Func<IResult> action) => GuardAsync(http, () => Task.FromResult(action()));

    static async Task<IResult> GuardAsync(HttpContext http, Func<Task<IResult>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (CommunityException e)
        {
            int status = e.Error switch
            {
                CommunityError.NotFound => StatusCodes.Status404NotFound,
                CommunityError.Conflict => StatusCodes.Status409Conflict,
                _ => StatusCodes.Status400BadRequest,
            };
            return Results.Json(new { error = e.Message }, Json, statusCode: status);
        }
        catch (IOException e)
        {
            return Results.Json(new { error = $"the community state could not be written: {e.Message}" }, Json, statusCode: StatusCodes.Status500InternalServerError);
        }
    }

    static async Task Error(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        await http.Response.WriteAsJsonAsync(new { error = message }, http.RequestAborted).ConfigureAwait(false);
    }
}
