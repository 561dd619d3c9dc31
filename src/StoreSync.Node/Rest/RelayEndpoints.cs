using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StoreSync.Core;
using StoreSync.Node.Json;
using StoreSync.Waku;
using StoreSync.Waku.Relay;

namespace StoreSync.Node.Rest;

/// <summary>nwaku's relay REST API (logos-delivery <c>rest_api/endpoint/relay/handlers.nim</c>): publish, subscribe for the
/// REST cache and read what arrived since the last read, by pubsub topic or, under autosharding, by content topic.</summary>
/// <remarks>Topics in paths are URL-encoded. A subscription adds a topic to the REST cache (and to relay when the node does
/// not serve it); deleting it drops the cache and leaves relay on a served topic, which the archive needs (spec/relay.md §12).</remarks>
internal sealed class RelayEndpoints(WakuRelay relay, IServedTopics served)
{
    /// <summary>Most topics (pubsub and content) watched for REST at once; each keeps up to 50 messages.</summary>
    public const int MaxWatchedTopics = 256;

    /// <summary>nwaku's DefaultContentTopic, given to a message published by pubsub topic without one.</summary>
    public const string DefaultContentTopic = "/waku/2/default-content/proto";

    const int MaxBodyTopics = MaxWatchedTopics;
    readonly Lock _gate = new();

    public void Map(WebApplication app)
    {
        app.MapPost("/relay/v1/subscriptions", (HttpContext http) => SubscribeAsync(http, auto: false));
        app.MapDelete("/relay/v1/subscriptions", (HttpContext http) => UnsubscribeAsync(http, auto: false));
        app.MapGet("/relay/v1/messages/{pubsubTopic}", (HttpContext http, string pubsubTopic) => GetAsync(http, pubsubTopic, auto: false));
        app.MapPost("/relay/v1/messages/{pubsubTopic}", (HttpContext http, string pubsubTopic) => PublishAsync(http, pubsubTopic));
        app.MapPost("/relay/v1/auto/subscriptions", (HttpContext http) => SubscribeAsync(http, auto: true));
        app.MapDelete("/relay/v1/auto/subscriptions", (HttpContext http) => UnsubscribeAsync(http, auto: true));
        app.MapGet("/relay/v1/auto/messages/{contentTopic}", (HttpContext http, string contentTopic) => GetAsync(http, contentTopic, auto: true));
        app.MapPost("/relay/v1/auto/messages", (HttpContext http) => PublishAsync(http, null));
    }

    /// <summary>The pubsub topic a REST topic names: itself, or under autosharding the shard of a content topic; null with the reason.</summary>
    string? PubsubTopicOf(string topic, bool auto, out string error)
    {
        if (!auto) return PubsubTopic.TryValidate(topic, out error) ? topic : null;
        return Autosharding.TryGetPubsubTopic(relay.Options.ClusterId, relay.Options.ShardsInNetwork, topic, out var pubsub, out error) ? pubsub : null;
    }

    async Task SubscribeAsync(HttpContext http, bool auto)
    {
        if (await ReadPairsAsync(http, auto).ConfigureAwait(false) is not { } pairs) return;
        var cache = auto ? relay.AutoCache : relay.Cache;
        string? refusal = null;
        lock (_gate)
        {
            int adding = pairs.Select(p => p.Topic).Distinct(StringComparer.Ordinal).Count(t => !cache.IsWatched(t));
            if (relay.Cache.Count + relay.AutoCache.Count + adding > MaxWatchedTopics)
                refusal = $"at most {MaxWatchedTopics} topics may be subscribed through REST at once";
            else
                foreach (var (topic, pubsub) in pairs)
                {
                    cache.Watch(topic);
                    if (!relay.Subscriptions.Contains(pubsub)) relay.Subscribe(pubsub);
                }
        }
        await TextAsync(http, refusal is null ? 200 : 400, refusal ?? "OK").ConfigureAwait(false);
    }

    async Task UnsubscribeAsync(HttpContext http, bool auto)
    {
        if (await ReadPairsAsync(http, auto).ConfigureAwait(false) is not { } pairs) return;
        lock (_gate)
        {
            foreach (var (topic, pubsub) in pairs)
            {
                (auto ? relay.AutoCache : relay.Cache).Unwatch(topic);
                // Relay stays on a topic the archive serves, or one another REST subscription still needs.
                bool needed = served.Serves(pubsub) || relay.Cache.IsWatched(pubsub)
                    || relay.AutoCache.Watched.Any(c => PubsubTopicOf(c, auto: true, out _) == pubsub);
                if (!needed && relay.Subscriptions.Contains(pubsub)) relay.Unsubscribe(pubsub);
            }
        }
        await TextAsync(http, 200, "OK").ConfigureAwait(false);
    }

    async Task GetAsync(HttpContext http, string encoded, bool auto)
    {
        var topic = Uri.UnescapeDataString(encoded);
        bool valid = auto ? ContentTopic.TryValidate(topic, out var error) : PubsubTopic.TryValidate(topic, out error);
        if (!valid)
        {
            await TextAsync(http, 400, $"Invalid {(auto ? "content" : "pubsub")} topic '{topic}': {error}").ConfigureAwait(false);
            return;
        }
        if ((auto ? relay.AutoCache : relay.Cache).Take(topic) is not { } messages)
        {
            await TextAsync(http, 404, $"Not subscribed to topic: {topic}").ConfigureAwait(false);
            return;
        }
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(http.Response.Body);
        json.WriteStartArray();
        foreach (var m in messages) MessageJson.WriteMessage(json, m);
        json.WriteEndArray();
        await json.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Publishes the body's message on the topic of the path, or (auto, <paramref name="encoded"/> null) on the shard of its content topic.</summary>
    async Task PublishAsync(HttpContext http, string? encoded)
    {
        bool auto = encoded is null;
        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted).ConfigureAwait(false);
        var message = MessageJson.ParseRelayMessage(body.GetBuffer().AsSpan(0, (int)body.Length), auto ? null : DefaultContentTopic, out var parseError);
        string? pubsub = null;
        string error = "";
        if (message is null) error = "Failed to publish: " + parseError;
        else if ((pubsub = PubsubTopicOf(auto ? message.ContentTopic : Uri.UnescapeDataString(encoded!), auto, out var topicError)) is null)
            error = auto ? "Failed to publish. Autosharding error: " + topicError : "Failed to publish: " + topicError;
        else if (!relay.Subscriptions.Contains(pubsub)) error = "Failed to publish: Node not subscribed to topic: " + pubsub;
        if (error.Length > 0)
        {
            await TextAsync(http, 400, error).ConfigureAwait(false);
            return;
        }
        try
        {
            await relay.PublishAsync(pubsub!, message!, http.RequestAborted).ConfigureAwait(false);
        }
        catch (RelayPublishException e)
        {
            await TextAsync(http, 400, "Failed to publish: " + e.Reason).ConfigureAwait(false);
            return;
        }
        await TextAsync(http, 200, "OK").ConfigureAwait(false);
    }

    /// <summary>The body's topics, each with the pubsub topic it names; writes 400 and returns null when one is invalid.</summary>
    async Task<List<(string Topic, string Pubsub)>?> ReadPairsAsync(HttpContext http, bool auto)
    {
        if (await ReadTopicsAsync(http).ConfigureAwait(false) is not { } topics) return null;
        var pairs = new List<(string Topic, string Pubsub)>();
        foreach (var t in topics)
        {
            if (PubsubTopicOf(t, auto, out var error) is not { } pubsub)
            {
                await TextAsync(http, 400, $"Invalid {(auto ? "content" : "pubsub")} topic '{t}': {error}").ConfigureAwait(false);
                return null;
            }
            pairs.Add((t, pubsub));
        }
        return pairs;
    }

    /// <summary>The body as a JSON array of topic strings; writes 400 and returns null when it is not one.</summary>
    static async Task<List<string>?> ReadTopicsAsync(HttpContext http)
    {
        string? error = null;
        var topics = new List<string>();
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { MaxDepth = 4 }, http.RequestAborted).ConfigureAwait(false);
            if (document.RootElement.ValueKind != JsonValueKind.Array) error = "the body must be a JSON array of topics";
            else if (document.RootElement.GetArrayLength() is 0 or > MaxBodyTopics) error = $"the body must list 1 to {MaxBodyTopics} topics";
            else
                foreach (var e in document.RootElement.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.String) { error = "every topic must be a JSON string"; break; }
                    topics.Add(e.GetString()!);
                }
        }
        catch (JsonException e)
        {
            error = "the body is not JSON: " + e.Message;
        }
        if (error is null) return topics;
        await TextAsync(http, 400, error).ConfigureAwait(false);
        return null;
    }

    static async Task TextAsync(HttpContext http, int status, string text)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/plain; charset=utf-8";
        await http.Response.WriteAsync(text, http.RequestAborted).ConfigureAwait(false);
    }
}
