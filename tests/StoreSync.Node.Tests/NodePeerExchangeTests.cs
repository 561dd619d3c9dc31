using System.Net;
using StoreSync.Libp2p.Discovery.Discv5;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multistream;
using StoreSync.Libp2p.Noise;
using StoreSync.Testing.Node;
using StoreSync.Waku.Enr;
using StoreSync.Waku.PeerExchange;

namespace StoreSync.Node.Tests;

/// <summary>--peer-exchange on node processes: a node hands out the live Waku peers its discv5 found, of its cluster only.</summary>
public class NodePeerExchangeTests
{
    static Task<StoreNodeProcess> StartAsync(params string[] args) =>
        StoreNodeProcess.StartAsync(["--discv5-discovery", "true", "--discv5-udp-port", "0", .. args]);

    [Fact]
    public async Task A_client_asking_one_node_gets_the_records_of_the_nodes_it_discovered()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        await using var b = await StartAsync();
        var bRecord = await b.RecordAsync(cts.Token);
        await using var other = await StartAsync("--cluster-id", "2", "--shard", "0", "--discv5-bootstrap-node", bRecord.ToText());
        await using var a = await StartAsync("--discv5-bootstrap-node", bRecord.ToText());
        await using var c = await StartAsync("--discv5-bootstrap-node", bRecord.ToText());
        var expected = new Dictionary<string, StoreNodeProcess> { [a.PeerId] = a, [c.PeerId] = c };
        var otherRecord = await other.RecordAsync(cts.Token);

        await using var client = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() });
        await client.DialAsync(b.Multiaddr, cts.Token);
        PeerExchangeResult result = new(0, "", [], 0);
        // B learns A and C when they bootstrap from it; the server's per-peer rate (5 at once, then 1 per 6 s) bounds the polling.
        for (int round = 0; round < 12 && !expected.Keys.All(Names(result).Contains); round++)
        {
            if (round > 0) await Task.Delay(TimeSpan.FromSeconds(3), cts.Token);
            var answer = await new PeerExchangeClient(client).RequestAsync(PeerId.Parse(b.PeerId), 10, cts.Token);
            if (answer.Status == PeerExchangeProtocol.Success) result = answer;
        }
        Assert.Equal(PeerExchangeProtocol.Success, result.Status);
        Assert.Equal(0, result.Rejected);
        Assert.Subset(Names(result), expected.Keys.ToHashSet());
        foreach (var record in result.Records.Where(r => expected.ContainsKey(EnrPeerInfo.PeerIdOf(r).ToString())))
        {
            var node = expected[EnrPeerInfo.PeerIdOf(record).ToString()];
            Assert.Equal([node.Multiaddr], EnrPeerInfo.TcpMultiaddrs(record));
            Assert.True(WakuEnr.WakuCapabilitiesOf(record)!.Value.HasFlag(WakuCapabilities.Store | WakuCapabilities.Sync));
        }

        // The cluster-2 node is in B's table (B names it when asked by distance) but is never handed out.
        await using var probe = Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1), new Discv5Options { ListenAddress = IPAddress.Loopback });
        var atDistance = await probe.FindNodeAsync(bRecord, [NodeId.LogDistance(bRecord.NodeId, otherRecord.NodeId)], cts.Token);
        Assert.Contains(atDistance, r => r.NodeId == otherRecord.NodeId);
        Assert.DoesNotContain(other.PeerId, Names(result));
        Assert.DoesNotContain(b.PeerId, Names(result));
    }

    static HashSet<string> Names(PeerExchangeResult result) => [.. result.Records.Select(r => EnrPeerInfo.PeerIdOf(r).ToString())];

    [Fact]
    public async Task Peer_exchange_off_is_not_mounted()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var node = await StoreNodeProcess.StartAsync("--peer-exchange", "false");
        await using var client = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() });
        await client.DialAsync(node.Multiaddr, cts.Token);
        var refused = await Assert.ThrowsAsync<MultistreamException>(() => new PeerExchangeClient(client).RequestAsync(PeerId.Parse(node.PeerId), 5, cts.Token));
        Assert.Contains(PeerExchangeProtocol.ProtocolId, refused.Message);
    }
}
