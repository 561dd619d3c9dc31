using System.Net;
using System.Text.Json;
using StoreSync.Libp2p.Discovery.Discv5;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Testing.Node;

namespace StoreSync.Node.Tests;

/// <summary>The node's discv5 flags (nwaku's names): the record printed at start and in /debug/v1/info, answering PING, bootstrapping.</summary>
public class NodeDiscv5Tests
{
    [Fact]
    public async Task Discv5_discovery_prints_the_record_reports_it_and_answers()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var node = await StoreNodeProcess.StartAsync("--discv5-discovery", "true", "--discv5-udp-port", "0");
        var record = await node.RecordAsync(cts.Token);
        Assert.Equal(IPAddress.Loopback, record.Ip);
        Assert.Equal(node.Multiaddr.ToString().Split('/')[4], record.Tcp.ToString());
        Assert.NotNull(record.Udp);

        using var http = new HttpClient { BaseAddress = node.Rest };
        var info = JsonDocument.Parse(await http.GetStringAsync("/debug/v1/info", cts.Token)).RootElement;
        Assert.Equal(record.ToText(), info.GetProperty("enrUri").GetString());

        await using var probe = Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1), new Discv5Options { ListenAddress = IPAddress.Loopback });
        var pong = await probe.PingAsync(record, cts.Token);
        Assert.Equal(record.Seq, pong.EnrSeq);
    }

    [Fact]
    public async Task A_node_given_a_bootstrap_record_is_found_through_it()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        await using var first = await StoreNodeProcess.StartAsync("--discv5-discovery", "true", "--discv5-udp-port", "0");
        var firstRecord = await first.RecordAsync(cts.Token);
        await using var second = await StoreNodeProcess.StartAsync("--discv5-discovery", "true", "--discv5-udp-port", "0",
            "--discv5-bootstrap-node", firstRecord.ToText());
        var secondRecord = await second.RecordAsync(cts.Token);

        // A third party that knows only the first node finds the second by a lookup through it.
        await using var probe = Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1), new Discv5Options
        {
            ListenAddress = IPAddress.Loopback,
            BootstrapNodes = [firstRecord],
        });
        List<EnrRecord> found = [];
        for (int round = 0; round < 20 && !found.Exists(r => r.NodeId == secondRecord.NodeId); round++)
        {
            found = await probe.LookupAsync(secondRecord.NodeId, cts.Token);
            if (!found.Exists(r => r.NodeId == secondRecord.NodeId)) await Task.Delay(500, cts.Token);
        }
        Assert.Contains(found, r => r.NodeId == secondRecord.NodeId);
    }

    [Fact]
    public async Task A_bad_bootstrap_record_or_port_is_refused_before_start()
    {
        var data = Path.Combine(Path.GetTempPath(), "storesync-discv5-" + Guid.NewGuid().ToString("N"));
        var result = await StoresyncProcess.RunAsync(null, "node", "--data-dir", data, "--discv5-discovery", "true",
            "--discv5-udp-port", "70000", "--discv5-bootstrap-node", "enr:notarecord");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--discv5-udp-port) 70000 is not a port number", result.Stderr);
        Assert.Contains("--discv5-bootstrap-node", result.Stderr);
        Assert.False(Directory.Exists(data));
    }
}
