using System.Text.Json;
using StoreSync.Core;
using StoreSync.Interop.Tests.Waku;
using StoreSync.Testing.Interop;
using StoreSync.Testing.Node;

namespace StoreSync.Interop.Tests.Relay;

/// <summary>Issue 14's proofs 1 and 2 on a real <c>storesync node</c> process with relay on: a js-waku relay node
/// (tests/Interop/relay/relay-peer.mjs) publishes and receives; js-waku's light push and store clients
/// (tests/Interop/waku/waku-client.mjs) push to the node and page its store.</summary>
public sealed class JsWakuRelayNodeTests
{
    const string ContentTopic = "/storesync/1/relay-node/proto";
    const string Shard = "/waku/2/rs/16/32";

    /// <summary>Relay on, store sync off (what arrives came by relay or light push), cluster 16 shard 32 (Status' communities).</summary>
    internal static StoreNodeSettings RelayNode(params string[] staticNodes) => new()
    {
        Metrics = true,
        Args = ["--relay", "true", "--cluster-id", "16", "--shard", "32", "--store-sync", "false", .. staticNodes.SelectMany(a => new[] { "--staticnode", a })],
    };

    internal static async Task<long> StoredAsync(HttpClient http, StoreNodeProcess node, CancellationToken ct) =>
        JsonDocument.Parse(await http.GetStringAsync(new Uri(node.Rest, "/health"), ct)).RootElement.GetProperty("storedMessages").GetInt64();

    [Fact]
    public async Task A_js_waku_relay_node_publishes_to_our_node_which_stores_and_serves_it_and_relays_what_is_pushed_to_it()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var ct = timeout.Token;
        await using var node = await StoreNodeProcess.StartAsync(RelayNode());
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var relayPeer = NodeScript.RunAsync("relay", "relay-peer.mjs",
            ["--dial", node.Address, "--cluster", "16", "--shard", "32", "--content-topic", ContentTopic,
             "--publish", "5", "--prefix", "js-waku relay", "--expect", "7", "--timeout", "100000", "--linger", "1500"],
            TimeSpan.FromSeconds(110), ["--import", "./withresolvers-polyfill.mjs"]);

        // Proof 1: js-waku's five reach the store by relay.
        for (int i = 0; i < 900 && await StoredAsync(http, node, ct) < 5; i++)
        {
            if (relayPeer.IsCompleted) Assert.Fail($"relay-peer.mjs ended early: {(await relayPeer).Stderr}");
            await Task.Delay(100, ct);
        }
        Assert.Equal(5, await StoredAsync(http, node, ct));

        // Proof 2: two published by our REST API (nwaku's POST /relay/v1/messages/{pubsubTopic}) and five light-pushed to
        // our node go out by relay and arrive at the js-waku relay node.
        var byRest = new List<MessageHash>();
        for (int i = 0; i < 2; i++)
        {
            var payload = System.Text.Encoding.UTF8.GetBytes($"published by REST {i}");
            long timestamp = Timestamp.Now() - i * Timestamp.NanosPerSecond;
            var body = JsonSerializer.Serialize(new { payload = Convert.ToBase64String(payload), contentTopic = ContentTopic, timestamp });
            using var posted = await http.PostAsync(new Uri(node.Rest, $"/relay/v1/messages/{Uri.EscapeDataString(Shard)}"),
                new StringContent(body, System.Text.Encoding.UTF8, "application/json"), ct);
            Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync(ct));
            byRest.Add(MessageHash.Compute(Shard, payload, ContentTopic, default, timestamp));
        }
        var pushed = await JsWakuClient.RunAsync("push", node.Address, "--cluster", "16", "--shard", "32", "--content-topic", ContentTopic, "--count", "5");
        var result = await relayPeer;
        Assert.True(result.ExitCode == 0, $"relay-peer.mjs exited {result.ExitCode}: {result.Stderr}\n{node.Output}");
        var events = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        List<MessageHash> Hashes(string kind) => [.. events.Where(e => e.GetProperty("event").GetString() == kind).Select(e => MessageHash.Parse(e.GetProperty("hash").GetString()!))];
        var published = Hashes("published");
        Assert.Equal(5, published.Count);
        Assert.Equal(pushed.Select(m => MessageHash.Parse(m.Hash)).Concat(byRest).Order(), Hashes("received").Order());
        Assert.Equal(0, events.Single(e => e.GetProperty("event").GetString() == "done").GetProperty("duplicates").GetInt32());

        // js-waku's store client pages all twelve back (3 a page), hash for hash.
        var queried = await JsWakuClient.RunAsync("query", node.Address, "--cluster", "16", "--shard", "32", "--content-topic", ContentTopic, "--page-size", "3");
        Assert.Equal(published.Concat(byRest).Concat(pushed.Select(m => MessageHash.Parse(m.Hash))).Order(), queried.Select(m => MessageHash.Parse(m.Hash)).Order());
        Assert.Equal(4, queried.Max(m => m.Page));
    }
}
