using System.Net.Http.Json;
using System.Text.Json;
using StoreSync.Core;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Noise;
using StoreSync.Testing.Node;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;
using Xunit.Abstractions;

namespace StoreSync.Interop.Tests.Dashboard;

/// <summary>The dashboard in headless Chromium against a real node with real traffic: it renders the node's figures
/// (read from the DOM, compared with the REST API), the screenshot is a real picture, and its controls change the node.</summary>
public sealed class DashboardTests(ITestOutputHelper output)
{
    const string Pubsub = "/waku/2/rs/16/0";
    const int PeerMessages = 5;
    // Cluster 16 (no RLN rule), so relay forwards and the node stores what it hears.
    static readonly string[] SyncFlags = ["--cluster-id", "16", "--store-sync-interval", "2", "--store-sync-history-interval", "4", "--store-sync-relay-jitter", "0"];

    static long Total(JsonElement direction) => direction.GetProperty("historyBytes").GetInt64() + direction.GetProperty("realtimeBytes").GetInt64();

    static JsonElement Relay(string figures) => JsonDocument.Parse(figures).RootElement.GetProperty("global").GetProperty("relay");

    /// <summary>Bounded wait until the node's relay knows a peer subscribed to the test's topic.</summary>
    static async Task WaitForTopicPeerAsync(Uri rest, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = rest, Timeout = TimeSpan.FromSeconds(30) };
        for (int i = 0; ; i++)
        {
            var topics = Relay(await http.GetStringAsync("/admin/v1/figures", ct)).GetProperty("topics");
            if (topics.TryGetProperty(Pubsub, out var t) && t.GetProperty("peers").GetInt32() >= 1) return;
            Assert.True(i < 300, $"no relay peer on {Pubsub} at {rest} in 30 s");
            await Task.Delay(100, ct);
        }
    }

    [Fact]
    public async Task The_page_renders_the_nodes_figures_and_its_controls_change_the_node()
    {
        // One community on shard 0 with a storage limit, so the page has a row with storage, traffic and an opt-in toggle.
        var config = Path.Combine(Directory.CreateTempSubdirectory("storesync-dashboard-").FullName, "node.json");
        await File.WriteAllTextAsync(config, """
            {"StoreSync": {"Communities": {"chat": {"PubsubTopics": ["/waku/2/rs/16/0"], "ContentTopics": ["/app/1/chat/proto"], "MaxBytes": 10000000}}}}
            """);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        // A peer holding chat messages the dashboard's node lacks, so the row shows a real sync (last sync, peer, fetched).
        await using var peer = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Args = ["--shard", "0", "--config", config, .. SyncFlags] });
        using (var peerHttp = new HttpClient { BaseAddress = peer.Rest, Timeout = TimeSpan.FromSeconds(30) })
            for (int i = 0; i < PeerMessages; i++)
            {
                var push = await peerHttp.PostAsJsonAsync("/lightpush/v3/message", new
                {
                    pubsubTopic = Pubsub,
                    message = new { payload = Convert.ToBase64String(BitConverter.GetBytes(i)), contentTopic = "/app/1/chat/proto", timestamp = Timestamp.Now() - 60 * Timestamp.NanosPerSecond },
                }, timeout.Token);
                Assert.True(push.IsSuccessStatusCode);
            }
        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Args = ["--shard", "0", "--config", config, "--staticnode", peer.Address, .. SyncFlags] });
        using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(30) };
        // Bounded wait until the node has fetched the peer's messages by sync.
        for (int i = 0; ; i++)
        {
            var chat = JsonDocument.Parse(await http.GetStringAsync("/admin/v1/communities/chat", timeout.Token)).RootElement;
            if (chat.GetProperty("stored").GetProperty("messages").GetInt64() >= PeerMessages) break;
            Assert.True(i < 600, "the node did not fetch the peer's messages in 60 s:\n" + node.Output);
            await Task.Delay(100, timeout.Token);
        }
        // One message relayed from the peer to the node (REST relay publish on the peer), once each sees the other on the topic.
        await WaitForTopicPeerAsync(peer.Rest, timeout.Token);
        await WaitForTopicPeerAsync(node.Rest, timeout.Token);
        using (var peerHttp = new HttpClient { BaseAddress = peer.Rest, Timeout = TimeSpan.FromSeconds(30) })
        {
            var publish = await peerHttp.PostAsJsonAsync("/relay/v1/messages/" + Uri.EscapeDataString(Pubsub),
                new { payload = Convert.ToBase64String("relayed"u8.ToArray()), contentTopic = "/app/1/chat/proto" }, timeout.Token);
            Assert.True(publish.IsSuccessStatusCode, await publish.Content.ReadAsStringAsync(timeout.Token));
        }
        for (int i = 0; ; i++)
        {
            var relay = Relay(await http.GetStringAsync("/admin/v1/figures", timeout.Token));
            if (relay.GetProperty("validator").GetProperty("stored").GetInt64() >= 1) break;
            Assert.True(i < 300, "the relayed message was not stored in 30 s:\n" + node.Output);
            await Task.Delay(100, timeout.Token);
        }
        // Stop the peer so that no sync traffic flows while the page is compared with the REST API; let running sessions end.
        await peer.TerminateAsync();
        await Task.Delay(1500, timeout.Token);

        // Real traffic: realtime pushes in, then a Store v3 query over libp2p paging them out as history.
        for (int i = 0; i < 25; i++)
        {
            var push = await http.PostAsJsonAsync("/lightpush/v3/message", new
            {
                pubsubTopic = Pubsub,
                message = new { payload = Convert.ToBase64String(new byte[2000 + i]), contentTopic = "/app/1/chat/proto", timestamp = Timestamp.Now() },
            }, timeout.Token);
            Assert.True(push.IsSuccessStatusCode);
        }
        await using (var client = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() }))
        {
            var request = new StoreQueryRequest { RequestId = "dash", IncludeData = true, PubsubTopic = Pubsub, PaginationLimit = 10 };
            int served = 0;
            await foreach (var page in new StoreQueryClient(client).QueryAllAsync(node.Multiaddr, request, ct: timeout.Token)) served += page.Messages.Count;
            Assert.Equal(25 + PeerMessages + 1, served);
        }

        var screenshot = Path.Combine(TestArtifacts.Directory(), "dashboard.png");
        var (before, after) = await DashboardBrowser.RunAsync(new Uri(node.Rest, "/dashboard?interval=500"), screenshot,
            "--fill", "#global-upload-limit=2048", "--click", "#global-limits-apply", "--wait-text", "#global-limits-result=limits set",
            "--fill", "tr[data-community=\"chat\"] input[name=maxMiB]=5", "--click", "tr[data-community=\"chat\"] form.storage-limit button",
            "--wait-text", "tr[data-community=\"chat\"] .storage-result=storage limit set",
            "--click", "tr[data-community=\"chat\"] .opt-in", "--wait-text", "tr[data-community=\"chat\"] .serving=not serving");

        // The figures on the page are the node's (no traffic flows meanwhile: the page's own polling is not charged).
        var report = JsonDocument.Parse(await http.GetStringAsync("/admin/v1/figures", timeout.Token)).RootElement;
        var figures = report.GetProperty("global");
        var health = JsonDocument.Parse(await http.GetStringAsync("/health", timeout.Token)).RootElement;
        output.WriteLine("rendered: " + string.Join(", ", before.Values.Select(kv => $"{kv.Key}={kv.Value} ({before.Texts.GetValueOrDefault(kv.Key)})")));
        Assert.Equal(Total(figures.GetProperty("upload")).ToString(), before.Values["global-upload-total"]);
        Assert.Equal(Total(figures.GetProperty("download")).ToString(), before.Values["global-download-total"]);
        Assert.True(long.Parse(before.Values["global-upload-total"]) > 25 * 2000, "history served is on the page");
        Assert.True(long.Parse(before.Values["global-download-total"]) > 25 * 2000, "realtime pushes are on the page");
        Assert.Equal(health.GetProperty("storedMessages").GetInt64().ToString(), before.Values["stored-messages"]);
        Assert.EndsWith("KiB", before.Texts["global-upload-total"]);

        // The community's row: storage from the community model, traffic from the governor, the toggle on.
        var chatTraffic = report.GetProperty("communities").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "chat");
        Assert.Equal(Total(chatTraffic.GetProperty("upload")).ToString(), before.Values["chat/upload-total"]);
        Assert.True(long.Parse(before.Values["chat/upload-total"]) > 25 * 2000, "the community's history traffic is on the page");
        // CPU of its protocol handlers: the Store query that paged its messages out and the sync that brought the peer's in.
        Assert.Equal(chatTraffic.GetProperty("cpu").GetProperty("totalSeconds").GetDouble(), double.Parse(before.Values["chat/cpu"], System.Globalization.CultureInfo.InvariantCulture), 9);
        if (report.GetProperty("cpuSupported").GetBoolean())
            foreach (var protocol in new[] { "/vac/waku/store-query/3.0.0", "/vac/waku/transfer/1.0.0", "/storesync/reconciliation/4.0.0" })
                Assert.True(chatTraffic.GetProperty("cpu").GetProperty("byProtocol").GetProperty(protocol).GetDouble() > 0, $"chat: CPU of {protocol}");
        var chatBefore = JsonDocument.Parse(await http.GetStringAsync("/admin/v1/communities/chat", timeout.Token)).RootElement;
        Assert.Equal(chatBefore.GetProperty("stored").GetProperty("bytes").GetInt64().ToString(), before.Values["chat/stored-bytes"]);
        Assert.Contains("9.54 MiB", before.Texts["chat/stored-bytes"]); // the limit, 10,000,000 bytes
        Assert.Equal("true", before.Values["chat/opt-in"]);
        Assert.Equal("10000000", before.Values["chat/storage-limit"]);

        // The row's sync state is the community's own (per-community figures of the sessions and transfers).
        var chatSync = chatTraffic.GetProperty("sync");
        Assert.Equal(chatSync.GetProperty("itemsFetched").GetInt64().ToString(), before.Values["chat/sync-state"]);
        Assert.True(chatSync.GetProperty("itemsFetched").GetInt64() >= PeerMessages);
        Assert.Equal(1, chatSync.GetProperty("peerCount").GetInt32());
        Assert.Equal(peer.PeerId, chatSync.GetProperty("peers")[0].GetProperty("peerId").GetString());
        Assert.Contains("1 peer;", before.Texts["chat/sync-state"]);
        Assert.Contains($"fetched {chatSync.GetProperty("itemsFetched").GetInt64()}", before.Texts["chat/sync-state"]);

        // The peer book: the static peer (stopped by now) known, by source and by capability (store sync, from identify).
        var peers = figures.GetProperty("peers");
        Assert.Equal(peers.GetProperty("known").GetInt32().ToString(), before.Values["peers-summary"]);
        Assert.Equal(1, peers.GetProperty("bySource").GetProperty("static").GetProperty("known").GetInt32());
        Assert.Equal(1, peers.GetProperty("byCapability").GetProperty("sync").GetProperty("known").GetInt32());
        Assert.Contains($"{peers.GetProperty("known").GetInt32()} known", before.Texts["peers-summary"]);

        // Relay: the relayed message in the gossipsub outcomes, bytes on the wire both ways, nobody graylisted; mesh and topic
        // peers per pubsub topic (the peer is stopped by now).
        var relayFigures = figures.GetProperty("relay");
        foreach (var (id, key) in new[] { ("relay-received", "received"), ("relay-accepted", "accepted"), ("relay-ignored", "ignored"),
            ("relay-rejected", "rejected"), ("relay-duplicate", "duplicate"), ("relay-bytes-in", "bytesIn"), ("relay-bytes-out", "bytesOut"),
            ("relay-graylisted", "graylistedPeers") })
            Assert.Equal(relayFigures.GetProperty(key).GetInt64().ToString(), before.Values[id]);
        Assert.True(long.Parse(before.Values["relay-received"]) >= 1, "the relayed message was received");
        Assert.True(long.Parse(before.Values["relay-accepted"]) >= 1, "the relayed message was accepted");
        Assert.Equal("0", before.Values["relay-rejected"]);
        Assert.Equal("0", before.Values["relay-graylisted"]);
        Assert.True(long.Parse(before.Values["relay-bytes-in"]) > "relayed".Length, "relay RPCs came in");
        Assert.True(long.Parse(before.Values["relay-bytes-out"]) > 0, "relay RPCs went out (subscriptions, control)");
        Assert.EndsWith("B", before.Texts["relay-bytes-in"]);
        var topicFigures = relayFigures.GetProperty("topics").GetProperty(Pubsub);
        Assert.Equal(topicFigures.GetProperty("mesh").GetInt32().ToString(), before.Values[$"relay-mesh:{Pubsub}"]);
        Assert.Equal(topicFigures.GetProperty("peers").GetInt32().ToString(), before.Values[$"relay-peers:{Pubsub}"]);

        var (width, height) = TestArtifacts.CheckPng(screenshot);
        output.WriteLine($"screenshot {screenshot}: {width}x{height}, {new FileInfo(screenshot).Length} bytes");
        Assert.Equal(1280, width);
        Assert.True(height >= 600);

        // The limit control changed the node's state.
        Assert.NotNull(after);
        var limits = JsonDocument.Parse(await http.GetStringAsync("/admin/v1/bandwidth", timeout.Token)).RootElement.GetProperty("global");
        Assert.Equal(2048 * 1024, limits.GetProperty("uploadBytesPerSecond").GetInt64());
        Assert.True(File.Exists(Path.Combine(node.DataDir, "bandwidth.json")));

        // The storage limit control changed the community's maxBytes on the node (5 MiB).
        Assert.Equal((5L << 20).ToString(), after!.Values["chat/storage-limit"]);
        var chatLimited = JsonDocument.Parse(await http.GetStringAsync("/admin/v1/communities/chat", timeout.Token)).RootElement;
        Assert.Equal(5L << 20, chatLimited.GetProperty("maxBytes").GetInt64());
        Assert.Equal(5L << 20, chatLimited.GetProperty("limits").GetProperty("maxBytes").GetInt64());

        // The opt-in toggle switched the community off on the node.
        Assert.Equal("false", after!.Values["chat/opt-in"]);
        var chatAfter = JsonDocument.Parse(await http.GetStringAsync("/admin/v1/communities/chat", timeout.Token)).RootElement;
        Assert.False(chatAfter.GetProperty("optedIn").GetBoolean());
        Assert.False(chatAfter.GetProperty("state").GetProperty("serving").GetBoolean());
        File.Delete(config);
    }
}
