using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Storage;
using StoreSync.Testing.Node;
using static StoreSync.Node.Tests.NodeTestPeers;

namespace StoreSync.Node.Tests;

/// <summary>A real <c>storesync node</c> process: REST, metrics, static nodes, its persisted key, and a SIGTERM that loses nothing.</summary>
public sealed class NodeProcessTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-node-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Rest_push_query_metrics_and_a_clean_sigterm()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        var data = Path.Combine(_dir, "data");
        await using (var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = data, Metrics = true, Args = ["--shard", "0"] }))
        {
            using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(20) };
            long ts = Timestamp.Now();
            var body = new { pubsubTopic = Shard0, message = new { payload = Convert.ToBase64String("hello"u8.ToArray()), contentTopic = "/app/1/chat/proto", timestamp = ts } };
            var push = await http.PostAsJsonAsync("/lightpush/v3/message", body, ct);
            Assert.Equal(HttpStatusCode.OK, push.StatusCode);
            var wrongShard = await http.PostAsJsonAsync("/lightpush/v3/message", body with { pubsubTopic = "/waku/2/rs/1/5" }, ct);
            Assert.Equal(HttpStatusCode.BadRequest, wrongShard.StatusCode);
            Assert.Contains("not served", await wrongShard.Content.ReadAsStringAsync(ct));

            var page = JsonDocument.Parse(await http.GetStringAsync("/store/v3/messages?pubsubTopic=%2Fwaku%2F2%2Frs%2F1%2F0&contentTopics=%2Fapp%2F1%2Fchat%2Fproto&includeData=true", ct)).RootElement;
            Assert.Equal(200, page.GetProperty("statusCode").GetInt32());
            var message = Assert.Single(page.GetProperty("messages").EnumerateArray().ToList());
            Assert.Equal(ts, message.GetProperty("message").GetProperty("timestamp").GetInt64());
            Assert.Matches("^0x[0-9a-f]{64}$", message.GetProperty("messageHash").GetString());
            Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/store/v3/messages?pageSize=abc", ct)).StatusCode);

            var health = JsonDocument.Parse(await http.GetStringAsync("/health", ct)).RootElement;
            Assert.Equal(1, health.GetProperty("storedMessages").GetInt64());
            var info = JsonDocument.Parse(await http.GetStringAsync("/debug/v1/info", ct)).RootElement;
            Assert.Equal(node.PeerId, info.GetProperty("peerId").GetString());
            Assert.Contains(node.Address, info.GetProperty("listenAddresses").EnumerateArray().Select(a => a.GetString()));

            var metrics = await http.GetStringAsync(node.Metrics, ct);
            Assert.Equal(1, Require(metrics, "storesync_messages_stored_total", ("pubsub_topic", Shard0)));
            Assert.NotNull(Sample(metrics, "storesync_messages_rejected_total"));

            Assert.Equal(0, await node.TerminateAsync());
        }
        using var store = MessageStore.Open(data);
        Assert.Equal(1, store.GetStatistics().Messages);
        Assert.Empty(StoreIntegrity.Check(store));
    }

    [Fact]
    public async Task Settings_come_from_appsettings_then_environment_then_nwaku_named_flags_and_ctrl_c_stops_cleanly()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        var work = Path.Combine(_dir, "work");
        var data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "appsettings.json"), """{"StoreSync":{"ClusterId":16,"Shards":[3,4],"StoreMaxPageSize":7}}""");
        var environment = new Dictionary<string, string> { ["STORESYNC_StoreMaxPageSize"] = "5", ["STORESYNC_Shards__0"] = "9" };
        var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = data, WorkingDirectory = work, Args = ["--shard", "4"] }, environment);
        await using (node)
        {
            // Cluster from the file; shards from the flag, which replaced the environment's list, which replaced the file's.
            await using var client = Client();
            var metadata = StoreSync.Waku.Proto.WakuMetadataResponse.Parser.ParseFrom(await RawAsync(client, node.Multiaddr,
                StoreSync.Waku.Metadata.MetadataProtocol.ProtocolId, Framed(new StoreSync.Waku.Proto.WakuMetadataRequest { ClusterId = 16 }.ToByteArray()), true, ct));
            Assert.Equal(16u, metadata.ClusterId);
            Assert.Equal([4u], metadata.ShardsPacked);

            var push = new StoreSync.Waku.LightPush.LightPushClient(client);
            for (int i = 0; i < 10; i++) Assert.Equal(200u, (await push.PushAsync(node.Multiaddr, "/waku/2/rs/16/4", Message($"m{i}"), ct)).StatusCode);
            Assert.NotEqual(200u, (await push.PushAsync(node.Multiaddr, "/waku/2/rs/16/3", Message("file shard, replaced"), ct)).StatusCode);

            // The page size from the environment (5) beats the file's (7).
            using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(20) };
            var page = JsonDocument.Parse(await http.GetStringAsync("/store/v3/messages?pubsubTopic=%2Fwaku%2F2%2Frs%2F16%2F4&pageSize=50", ct)).RootElement;
            Assert.Equal(5, page.GetProperty("messages").GetArrayLength());

            node.SendSigint(); // Ctrl-C
            Assert.Equal(0, await node.WaitForExitAsync());
            Assert.Contains("Drained", node.Output);
        }
        using var store = MessageStore.Open(data);
        Assert.Equal(10, store.GetStatistics().Messages);
        Assert.Empty(StoreIntegrity.Check(store));
    }

    [Fact]
    public async Task Bad_configuration_is_refused_before_anything_starts()
    {
        var result = await StoresyncProcess.RunAsync(null, "node", "--data-dir", Path.Combine(_dir, "d"), "--shard", "5000", "--rest-address", "nowhere",
            "--rate-limit", "filter:1/1s", "--rate-limit", "store:ten/1s", "--staticnode", "not-a-multiaddr", "--entry-node", "boot.example.org");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--shard", result.Stderr);
        Assert.Contains("--rest-address", result.Stderr);
        Assert.Contains("protocol 'filter'", result.Stderr);
        Assert.Contains("'store:ten/1s' is not", result.Stderr);
        Assert.Contains("StaticNodes (--staticnode) 'not-a-multiaddr': not a multiaddr", result.Stderr);
        Assert.Contains("EntryNodes (--entry-node) 'boot.example.org': not enrtree://", result.Stderr);
    }

    [Fact]
    public async Task A_static_node_is_kept_connected_and_the_node_key_survives_a_restart()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = timeout.Token;
        await using var b = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Args = ["--shard", "0"] });
        var aData = Path.Combine(_dir, "a");
        string firstId;
        await using (var a = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = aData, Args = ["--shard", "0", "--staticnode", b.Address] }))
        {
            firstId = a.PeerId;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            async Task<long> Connected(StoreNodeProcess n) => JsonDocument.Parse(await http.GetStringAsync(new Uri(n.Rest, "/health"), ct)).RootElement.GetProperty("connectedPeers").GetInt64();
            while (await Connected(a) < 1 || await Connected(b) < 1) await Task.Delay(100, ct); // bounded by ct
            // Same cluster: metadata keeps the connection (a peer of another cluster would be dropped).
            Assert.Equal(0, await a.TerminateAsync());
        }
        await using var again = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = aData, Rest = false, Args = ["--shard", "0"] });
        Assert.Equal(firstId, again.PeerId);
        Assert.True(File.Exists(Path.Combine(aData, "node.key")));
    }

    [Fact]
    public async Task Rest_peerAddr_queries_another_node_over_libp2p()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        await using var remote = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Args = ["--shard", "0"] });
        await using var local = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Args = ["--shard", "0"] });
        using var toRemote = new HttpClient { BaseAddress = remote.Rest, Timeout = TimeSpan.FromSeconds(30) };
        using var toLocal = new HttpClient { BaseAddress = local.Rest, Timeout = TimeSpan.FromSeconds(30) };
        for (int i = 0; i < 3; i++)
        {
            var body = new { pubsubTopic = Shard0, message = new { payload = Convert.ToBase64String([(byte)i]), contentTopic = "/app/1/chat/proto", timestamp = Timestamp.Now() } };
            Assert.Equal(HttpStatusCode.OK, (await toRemote.PostAsJsonAsync("/lightpush/v3/message", body, ct)).StatusCode);
        }
        const string Query = "/store/v3/messages?pubsubTopic=%2Fwaku%2F2%2Frs%2F1%2F0&contentTopics=%2Fapp%2F1%2Fchat%2Fproto&includeData=true&pageSize=2";
        static List<string> Hashes(JsonElement page) => [.. page.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("messageHash").GetString()!)];

        var direct = JsonDocument.Parse(await toRemote.GetStringAsync(Query, ct)).RootElement;
        var viaLocal = JsonDocument.Parse(await toLocal.GetStringAsync(Query + "&peerAddr=" + Uri.EscapeDataString(remote.Address), ct)).RootElement;
        Assert.Equal(200, viaLocal.GetProperty("statusCode").GetInt32());
        Assert.Equal(2, Hashes(viaLocal).Count);
        Assert.Equal(Hashes(direct), Hashes(viaLocal));
        Assert.Equal(direct.GetProperty("paginationCursor").GetString(), viaLocal.GetProperty("paginationCursor").GetString());
        var next = JsonDocument.Parse(await toLocal.GetStringAsync(Query + "&peerAddr=" + Uri.EscapeDataString(remote.Address)
            + "&cursor=" + viaLocal.GetProperty("paginationCursor").GetString(), ct)).RootElement;
        Assert.Single(Hashes(next));

        // Our own address is answered from our own store (empty here); a bad address is 400; an unreachable one 500 with the reason.
        var self = JsonDocument.Parse(await toLocal.GetStringAsync(Query + "&peerAddr=" + Uri.EscapeDataString(local.Address), ct)).RootElement;
        Assert.Empty(Hashes(self));
        var malformed = await toLocal.GetAsync(Query + "&peerAddr=%2Fip4%2F127.0.0.1%2Ftcp%2F1", ct);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("/p2p/", await malformed.Content.ReadAsStringAsync(ct));
        var nobody = StoreSync.Libp2p.Identity.IdentityKey.Generate(StoreSync.Libp2p.Identity.KeyType.Ed25519).PeerId; // not connected already
        var closedPort = $"/ip4/127.0.0.1/tcp/{StoreNodeProcess.FreePort()}/p2p/{nobody}";
        var unreachable = await toLocal.GetAsync(Query + "&peerAddr=" + Uri.EscapeDataString(closedPort), ct);
        Assert.Equal(HttpStatusCode.InternalServerError, unreachable.StatusCode);
        Assert.Contains("failed", await unreachable.Content.ReadAsStringAsync(ct));
    }
}
