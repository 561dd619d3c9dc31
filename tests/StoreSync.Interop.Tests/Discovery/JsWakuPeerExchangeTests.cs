using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using StoreSync.Testing.Interop;
using StoreSync.Testing.Node;

namespace StoreSync.Interop.Tests.Discovery;

/// <summary>Issue 16 proof 3: a js-waku light client that knows one of our nodes learns the others by peer exchange
/// (@waku/discovery) and queries their stores (tests/Interop/discovery/px-client.mjs).</summary>
public class JsWakuPeerExchangeTests
{
    // A cluster without RLN (nwaku's twn preset is cluster 1 only), so nothing here depends on proofs.
    const string Cluster = "5";
    const string PubsubTopic = "/waku/2/rs/5/0";
    const string ContentTopic = "/storesync/1/peer-exchange/proto";

    static Task<StoreNodeProcess> StartAsync(params string[] args) =>
        StoreNodeProcess.StartAsync(["--discv5-discovery", "true", "--discv5-udp-port", "0", "--cluster-id", Cluster, .. args]);

    static async Task<string> BootstrapRecordAsync(StoreNodeProcess node, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = node.Rest };
        return JsonDocument.Parse(await http.GetStringAsync("/debug/v1/info", ct)).RootElement.GetProperty("enrUri").GetString()!;
    }

    static async Task PushAsync(StoreNodeProcess node, string text, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = node.Rest };
        var body = new
        {
            pubsubTopic = PubsubTopic,
            message = new { payload = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)), contentTopic = ContentTopic, timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 },
        };
        var response = await http.PostAsJsonAsync("/lightpush/v3/message", body, ct);
        Assert.True(response.IsSuccessStatusCode, $"push to {node.PeerId}: {response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
    }

    [Fact]
    public async Task A_light_client_knowing_one_node_learns_the_others_by_peer_exchange_and_queries_their_stores()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(240));
        // No libp2p links between the nodes (no static nodes): each store holds only what was pushed to it.
        await using var b = await StartAsync();
        var bRecord = await BootstrapRecordAsync(b, cts.Token);
        await using var a = await StartAsync("--discv5-bootstrap-node", bRecord);
        await using var c = await StartAsync("--discv5-bootstrap-node", bRecord);
        var pushed = new Dictionary<string, string[]> { [a.PeerId] = ["A one", "A two"], [c.PeerId] = ["C one", "C two", "C three"] };
        foreach (var (node, texts) in new[] { (a, pushed[a.PeerId]), (c, pushed[c.PeerId]) })
            foreach (var text in texts) await PushAsync(node, text, cts.Token);

        var result = await NodeScript.RunAsync("discovery", "px-client.mjs",
            [b.Address, "--cluster", Cluster, "--shard", "0", "--content-topic", ContentTopic, "--expect", "2", "--timeout", "45000"],
            TimeSpan.FromSeconds(200), ["--import", "../waku/withresolvers-polyfill.mjs"]);
        Assert.True(result.ExitCode == 0, $"px-client.mjs exited {result.ExitCode}: {result.Stderr}\n{result.Stdout}");
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        var learned = lines.Where(l => l.TryGetProperty("learned", out _)).ToDictionary(l => l.GetProperty("learned").GetString()!);
        Assert.Equal(pushed.Keys.Order(), learned.Keys.Order());
        foreach (var node in new[] { a, c })
        {
            var tcp = node.Multiaddr.WithoutPeerId().ToString();
            Assert.Contains(learned[node.PeerId].GetProperty("multiaddrs").EnumerateArray(), m => m.GetString()!.StartsWith(tcp, StringComparison.Ordinal));
        }

        foreach (var (peer, texts) in pushed)
        {
            var answered = lines.Where(l => l.TryGetProperty("from", out var f) && f.GetString() == peer).Select(l => l.GetProperty("payload").GetString()!).ToList();
            // A superset would be fine: a peer manager that links the nodes lets store sync spread the messages.
            Assert.Subset(answered.ToHashSet(), texts.ToHashSet());
        }
        Assert.Equal(2, lines.Count(l => l.TryGetProperty("queried", out _)));
    }
}
