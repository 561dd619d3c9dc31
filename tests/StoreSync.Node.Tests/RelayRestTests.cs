using System.Net;
using System.Text;
using System.Text.Json;
using StoreSync.Core;
using StoreSync.Testing.Node;
using StoreSync.Waku.Relay;

namespace StoreSync.Node.Tests;

/// <summary>nwaku's relay REST API on live node processes (spec/relay.md §12): publish on one node, read on the other.</summary>
public sealed class RelayRestTests
{
    const string ContentTopic = "/app/1/chat/proto";

    static StoreNodeSettings Node(params string[] staticNodes) => new()
    {
        Metrics = true,
        Args = ["--cluster-id", "16", "--num-shards-in-network", "8", "--store-sync", "false", .. staticNodes.SelectMany(a => new[] { "--staticnode", a })],
    };

    static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    static string Body(string text, string? contentTopic = ContentTopic) =>
        JsonSerializer.Serialize(contentTopic is null
            ? new Dictionary<string, object> { ["payload"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)), ["timestamp"] = Timestamp.Now() }
            : new Dictionary<string, object> { ["payload"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)), ["contentTopic"] = contentTopic, ["timestamp"] = Timestamp.Now() });

    static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpClient http, HttpMethod method, Uri url, string? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : Json(body) };
        using var response = await http.SendAsync(request, ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    /// <summary>GETs until the cache returns at least <paramref name="count"/> messages in all (bounded), returning their payloads.</summary>
    static async Task<List<string>> ReadAsync(HttpClient http, Uri url, int count, CancellationToken ct)
    {
        var payloads = new List<string>();
        for (int i = 0; i < 100 && payloads.Count < count; i++)
        {
            var (status, body) = await SendAsync(http, HttpMethod.Get, url, null, ct);
            Assert.True(status == HttpStatusCode.OK, $"{url}: {(int)status} {body}");
            foreach (var m in JsonDocument.Parse(body).RootElement.EnumerateArray())
                payloads.Add(Encoding.UTF8.GetString(Convert.FromBase64String(m.GetProperty("payload").GetString()!)));
            if (payloads.Count < count) await Task.Delay(100, ct);
        }
        return payloads;
    }

    static async Task WaitForCountAsync(HttpClient http, StoreNodeProcess node, string topic, int count, CancellationToken ct)
    {
        int stored = 0;
        for (int i = 0; i < 200 && (stored = (await RelayProcessTests.HashesAsync(http, node, ct, topic)).Count) < count; i++) await Task.Delay(100, ct);
        Assert.Equal(count, stored);
    }

    [Fact]
    public async Task Messages_published_over_rest_on_one_node_are_read_over_rest_on_the_other_by_pubsub_and_by_content_topic()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var ct = timeout.Token;
        Assert.True(Autosharding.TryGetPubsubTopic(16, 8, ContentTopic, out var shard, out _));
        await using var a = await StoreNodeProcess.StartAsync(Node());
        await using var b = await StoreNodeProcess.StartAsync(Node(a.Address));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        await RelayProcessTests.WaitForMeshAsync(http, b, 1, ct, shard);
        await RelayProcessTests.WaitForMeshAsync(http, a, 1, ct, shard);
        var encoded = Uri.EscapeDataString(shard);
        Uri At(StoreNodeProcess n, string path) => new(n.Rest, path);

        // By pubsub topic: B watches the shard; A publishes two messages; B's first GET returns them, the next none.
        Assert.Equal((HttpStatusCode.NotFound, $"Not subscribed to topic: {shard}"), await SendAsync(http, HttpMethod.Get, At(b, $"/relay/v1/messages/{encoded}"), null, ct));
        Assert.Equal((HttpStatusCode.OK, "OK"), await SendAsync(http, HttpMethod.Post, At(b, "/relay/v1/subscriptions"), $"[\"{shard}\"]", ct));
        for (int i = 0; i < 2; i++)
            Assert.Equal((HttpStatusCode.OK, "OK"), await SendAsync(http, HttpMethod.Post, At(a, $"/relay/v1/messages/{encoded}"), Body($"by pubsub {i}"), ct));
        Assert.Equal(["by pubsub 0", "by pubsub 1"], await ReadAsync(http, At(b, $"/relay/v1/messages/{encoded}"), 2, ct));
        Assert.Equal((HttpStatusCode.OK, "[]"), await SendAsync(http, HttpMethod.Get, At(b, $"/relay/v1/messages/{encoded}"), null, ct));

        // By content topic: B watches it; A publishes on it (autosharded) and on another content topic of the network.
        var encodedContent = Uri.EscapeDataString(ContentTopic);
        Assert.Equal((HttpStatusCode.OK, "OK"), await SendAsync(http, HttpMethod.Post, At(b, "/relay/v1/auto/subscriptions"), $"[\"{ContentTopic}\"]", ct));
        Assert.Equal((HttpStatusCode.OK, "OK"), await SendAsync(http, HttpMethod.Post, At(a, "/relay/v1/auto/messages"), Body("by content"), ct));
        Assert.Equal((HttpStatusCode.OK, "OK"), await SendAsync(http, HttpMethod.Post, At(a, "/relay/v1/auto/messages"), Body("elsewhere", "/other/1/chat/proto"), ct));
        Assert.Equal(["by content"], await ReadAsync(http, At(b, $"/relay/v1/auto/messages/{encodedContent}"), 1, ct));

        // Every relayed message on the shard was archived too (shards 0..7 are served); DELETE ends the caches, not relay
        // on a served topic: what A publishes next is still archived by B.
        Assert.True(Autosharding.TryGetPubsubTopic(16, 8, "/other/1/chat/proto", out var other, out _));
        int onShard = 3 + (other == shard ? 1 : 0);
        await WaitForCountAsync(http, b, shard, onShard, ct);
        Assert.Equal((HttpStatusCode.OK, "OK"), await SendAsync(http, HttpMethod.Delete, At(b, "/relay/v1/subscriptions"), $"[\"{shard}\"]", ct));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, HttpMethod.Get, At(b, $"/relay/v1/messages/{encoded}"), null, ct)).Status);
        Assert.Equal((HttpStatusCode.OK, "OK"), await SendAsync(http, HttpMethod.Delete, At(b, "/relay/v1/auto/subscriptions"), $"[\"{ContentTopic}\"]", ct));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, HttpMethod.Get, At(b, $"/relay/v1/auto/messages/{encodedContent}"), null, ct)).Status);
        Assert.Equal((HttpStatusCode.OK, "OK"), await SendAsync(http, HttpMethod.Post, At(a, $"/relay/v1/messages/{encoded}"), Body("still archived"), ct));
        await WaitForCountAsync(http, b, shard, onShard + 1, ct);

        // Bad input: 400 with the reason, 404 for a topic not subscribed.
        (string Method, string Path, string? Body, HttpStatusCode Status, string Says)[] bad =
        [
            ("POST", "/relay/v1/subscriptions", "not json", HttpStatusCode.BadRequest, "not JSON"),
            ("POST", "/relay/v1/subscriptions", "{\"topic\":1}", HttpStatusCode.BadRequest, "JSON array"),
            ("POST", "/relay/v1/subscriptions", "[]", HttpStatusCode.BadRequest, "1 to"),
            ("POST", "/relay/v1/subscriptions", "[\"no topic\"]", HttpStatusCode.BadRequest, "Invalid pubsub topic 'no topic'"),
            ("DELETE", "/relay/v1/subscriptions", "[5]", HttpStatusCode.BadRequest, "JSON string"),
            ("POST", "/relay/v1/auto/subscriptions", "[\"/waku/2/rs/16/0\"]", HttpStatusCode.BadRequest, "Invalid content topic"),
            ("POST", $"/relay/v1/messages/{Uri.EscapeDataString("/waku/2/rs/16/99")}", Body("x"), HttpStatusCode.BadRequest, "Node not subscribed to topic: /waku/2/rs/16/99"),
            ("POST", $"/relay/v1/messages/{encoded}", "{\"contentTopic\":\"/app/1/chat/proto\"}", HttpStatusCode.BadRequest, "missing \"payload\""),
            ("POST", $"/relay/v1/messages/{encoded}", "{\"payload\":\"%%%\"}", HttpStatusCode.BadRequest, "not valid base64"),
            ("POST", $"/relay/v1/messages/{encoded}", Body("bad topic", "no content topic"), HttpStatusCode.BadRequest, "Failed to publish"),
            ("POST", "/relay/v1/auto/messages", Body("none", null), HttpStatusCode.BadRequest, "missing \"contentTopic\""),
            ("POST", "/relay/v1/auto/messages", Body("gen 1", "/1/app/1/chat/proto"), HttpStatusCode.BadRequest, "Autosharding error"),
            ("GET", $"/relay/v1/messages/{Uri.EscapeDataString("nope")}", null, HttpStatusCode.BadRequest, "Invalid pubsub topic"),
            ("GET", $"/relay/v1/messages/{Uri.EscapeDataString("/waku/2/rs/16/5")}", null, HttpStatusCode.NotFound, "Not subscribed"),
            ("GET", $"/relay/v1/auto/messages/{Uri.EscapeDataString("/x/1/y/proto")}", null, HttpStatusCode.NotFound, "Not subscribed"),
        ];
        foreach (var (method, path, body, status, says) in bad)
        {
            var (got, text) = await SendAsync(http, new HttpMethod(method), At(a, path), body, ct);
            Assert.True(got == status && text.Contains(says, StringComparison.Ordinal), $"{method} {path} {body}: {(int)got} {text}");
        }
        Assert.False(a.HasExited);
    }
}
