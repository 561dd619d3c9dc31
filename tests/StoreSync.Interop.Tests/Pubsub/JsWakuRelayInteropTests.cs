using System.Text.Json;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Testing;
using StoreSync.Testing.Interop;

namespace StoreSync.Interop.Tests.Pubsub;

/// <summary>
/// A js-waku relay node (tests/Interop/relay/relay-peer.mjs: @waku/sdk 0.0.36 with @chainsafe/libp2p-gossipsub 14.1.1 as
/// js-waku's wakuGossipSub, on js-libp2p 2.x) against Waku relay as the node composes it, in this process.
/// </summary>
public sealed class JsWakuRelayInteropTests : IDisposable
{
    const string Topic = "/waku/2/rs/16/32";
    const string ContentTopic = "/storesync/1/js-waku-relay/proto";
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(120));
    CancellationToken Ct => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task A_js_waku_relay_node_and_ours_exchange_messages_and_ours_stores_js_wakus_hash_for_hash()
    {
        await using var ours = await OurRelayNode.StartAsync(Topic, Ct);
        var js = NodeScript.RunAsync("relay", "relay-peer.mjs",
            ["--dial", ours.Router.Address, "--cluster", "16", "--shard", "32", "--content-topic", ContentTopic,
             "--publish", "5", "--prefix", "js-waku", "--expect", "5", "--timeout", "90000", "--linger", "1500"],
            TimeSpan.FromSeconds(100), ["--import", "./withresolvers-polyfill.mjs"]);

        // Once js-waku announced the topic to us (it dialled and subscribed), our five go out by flood publish.
        await Polling.WaitUntil(() => ours.Router.Router.TopicPeers(Topic).Count == 1 || js.IsCompleted, "js-waku a topic peer of ours", 60);
        var sent = new List<WakuMessage>();
        for (int i = 0; i < 5; i++)
        {
            var m = new WakuMessage { Payload = ByteString.CopyFromUtf8($"storesync {i}"), ContentTopic = ContentTopic, Timestamp = Timestamp.Now() };
            Assert.Equal(1, await ours.Relay.PublishAsync(Topic, m, Ct));
            sent.Add(m);
        }
        var result = await js;
        Assert.True(result.ExitCode == 0, $"relay-peer.mjs exited {result.ExitCode}: {result.Stderr}");
        var events = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        string Event(JsonElement e) => e.GetProperty("event").GetString()!;

        // Ours at js-waku, each once, under the Waku hashes we compute.
        var received = events.Where(e => Event(e) == "received").Select(e => MessageHash.Parse(e.GetProperty("hash").GetString()!)).ToList();
        Assert.Equal(sent.Select(m => MessageHash.Compute(Topic, m)).Order(), received.Order());
        var done = events.Single(e => Event(e) == "done");
        Assert.Equal(0, done.GetProperty("duplicates").GetInt32());

        // js-waku's at ours: stored, hash for hash.
        var published = events.Where(e => Event(e) == "published").ToList();
        Assert.Equal(5, published.Count);
        Assert.All(published, e => Assert.Equal(1, e.GetProperty("peers").GetInt32()));
        await Polling.WaitUntil(() => ours.Stored(Topic) == 10, $"10 stored (has {ours.Stored(Topic)})");
        foreach (var e in published)
            Assert.True(ours.Store.Store.Contains(MessageHash.Parse(e.GetProperty("hash").GetString()!)), $"js-waku's {e.GetProperty("payload")} stored");
        Assert.Equal(0, ours.RelayMetrics.Rejected);
    }
}
