using System.Net;
using System.Text.Json;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Testing.Node;
using Xunit.Abstractions;

namespace StoreSync.Node.Tests;

/// <summary>Issue 16 on IPv6: two nodes listening on ::1 only. A's record carries ip6/udp6/tcp6 and no IPv4 field; B, given
/// only that record, finds A by discv5 over IPv6 UDP, dials it over IPv6 TCP and syncs the message pushed to A.</summary>
public sealed class NodeIpv6ProcessTests(ITestOutputHelper output)
{
    const string Topic = "/waku/2/rs/1/0";
    static readonly string[] Flags = ["--shard", "0", "--discv5-discovery", "true", "--discv5-udp-port", "0",
        "--store-sync-interval", "2", "--store-sync-history-interval", "4", "--store-sync-relay-jitter", "0"];

    [Fact]
    public async Task Two_nodes_on_ipv6_loopback_find_each_other_by_discv5_and_sync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var ct = cts.Token;
        await using var a = await StoreNodeProcess.StartAsync(new StoreNodeSettings { ListenAddress = "::1", Args = Flags });
        Assert.StartsWith("/ip6/::1/tcp/", a.Address, StringComparison.Ordinal);
        var record = await a.RecordAsync(ct);
        Assert.Equal(IPAddress.IPv6Loopback, record.Ip6);
        Assert.NotNull(record.Udp6);
        Assert.NotNull(record.Tcp6);
        Assert.Null(record.Ip);
        Assert.Null(record.Udp);
        Assert.Equal([a.Address], EnrPeerInfo.TcpMultiaddrs(record).Select(m => m.ToString()));

        await a.LightPushAsync(Topic, "/ipv6/1/proof/proto", "over ipv6", ct);

        await using var b = await StoreNodeProcess.StartAsync(new StoreNodeSettings { ListenAddress = "::1", Args = [.. Flags, "--discv5-bootstrap-node", record.ToText()] });
        using var toB = new HttpClient { BaseAddress = b.Rest, Timeout = TimeSpan.FromSeconds(30) };
        JsonElement peers = default;
        long stored = 0;
        while (!ct.IsCancellationRequested) // bounded by the token
        {
            peers = JsonDocument.Parse(await toB.GetStringAsync("/admin/v1/figures", ct)).RootElement.GetProperty("global").GetProperty("peers");
            stored = JsonDocument.Parse(await toB.GetStringAsync("/health", ct)).RootElement.GetProperty("storedMessages").GetInt64();
            if (peers.GetProperty("bySource").GetProperty("discv5").GetProperty("connected").GetInt32() >= 1 && stored == 1) break;
            try { await Task.Delay(250, ct); } catch (OperationCanceledException) { }
        }
        output.WriteLine(peers.ToString());
        Assert.True(peers.GetProperty("bySource").GetProperty("discv5").GetProperty("connected").GetInt32() >= 1, $"{peers}\n{b.Output}");
        Assert.Equal(1, stored);
        Assert.Contains("at /ip6/::1/tcp/", b.Output, StringComparison.Ordinal);
    }
}
