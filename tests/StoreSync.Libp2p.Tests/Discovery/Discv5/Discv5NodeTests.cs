using System.Net;
using StoreSync.Libp2p.Discovery.Discv5;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Testing;

namespace StoreSync.Libp2p.Tests.Discovery.Discv5;

/// <summary>discv5 nodes over UDP on loopback: handshakes, PING/PONG, FINDNODE, record updates, lookups.</summary>
public class Discv5NodeTests
{
    internal static Discv5Options Options(params EnrRecord[] bootstrap) => new()
    {
        ListenAddress = IPAddress.Loopback,
        BootstrapNodes = bootstrap,
        RevalidateInterval = TimeSpan.FromSeconds(1),
        RefreshInterval = TimeSpan.FromSeconds(3),
    };

    internal static Discv5Node StartNode(params EnrRecord[] bootstrap) => Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1), Options(bootstrap));

    static CancellationToken Within(int seconds) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    [Fact]
    public async Task Ping_handshakes_and_each_side_learns_the_other()
    {
        await using var b = StartNode();
        await using var a = StartNode();
        var pong = await a.PingAsync(b.LocalRecord, Within(20));
        Assert.Equal(b.LocalRecord.Seq, pong.EnrSeq);
        Assert.Equal(IPAddress.Loopback, pong.RecipientIp);
        Assert.Equal(a.LocalEndPoint.Port, pong.RecipientPort);
        Assert.NotNull(a.Table.Get(b.LocalId));
        // b verified a by the handshake from the address a's record advertises.
        await Polling.WaitUntil(() => b.Table.Get(a.LocalId) is not null, "b's table holds a", 10);
        // A second request runs in the established session: no new handshake.
        await a.PingAsync(b.LocalRecord, Within(20));
        Assert.Equal(1, a.SessionCount);
    }

    [Fact]
    public async Task FindNode_at_distance_zero_returns_the_record_itself()
    {
        await using var b = StartNode();
        await using var a = StartNode();
        var self = await a.FindNodeAsync(b.LocalRecord, [0], Within(20));
        Assert.Equal(b.LocalRecord.ToText(), Assert.Single(self).ToText());
    }

    [Fact]
    public async Task FindNode_returns_only_nodes_at_the_distances_asked()
    {
        await using var hub = StartNode();
        var others = Enumerable.Range(0, 4).Select(_ => StartNode(hub.LocalRecord)).ToList();
        try
        {
            await Polling.WaitUntil(() => hub.Table.Count >= 4, "hub learns the four nodes", 30);
            var asker = others[0];
            foreach (var other in others.Skip(1))
            {
                int d = NodeId.LogDistance(hub.LocalId, other.LocalId);
                var found = await asker.FindNodeAsync(hub.LocalRecord, [d], Within(20));
                Assert.Contains(found, r => r.NodeId == other.LocalId);
                Assert.All(found, r => Assert.Equal(d, NodeId.LogDistance(hub.LocalId, r.NodeId)));
            }
        }
        finally
        {
            foreach (var o in others) await o.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_newer_record_is_fetched_when_a_pong_names_its_sequence_number()
    {
        await using var b = StartNode();
        await using var a = StartNode();
        await a.PingAsync(b.LocalRecord, Within(20));
        var old = a.Table.Get(b.LocalId)!;
        var updated = b.UpdateLocalRecord(r => r.Set("note", [1, 2, 3]));
        Assert.Equal(old.Seq + 1, updated.Seq);
        await a.PingAsync(old, Within(20));
        await Polling.WaitUntil(() => a.Table.Get(b.LocalId)!.Seq == updated.Seq, "a holds b's newer record", 20);
        Assert.True(a.Table.Get(b.LocalId)!.TryGetBytes("note", out _));
    }

    [Fact]
    public async Task A_restarted_peer_is_handshaken_again()
    {
        var bKey = IdentityKey.Generate(KeyType.Secp256k1);
        var b = Discv5Node.Start(bKey, Options());
        await using var a = StartNode();
        await a.PingAsync(b.LocalRecord, Within(20));
        int port = b.LocalEndPoint.Port;
        await b.DisposeAsync();
        // Same identity and port, no sessions: a's next message fails to decrypt there and draws a WHOAREYOU.
        await using var b2 = Discv5Node.Start(bKey, new Discv5Options { ListenAddress = IPAddress.Loopback, Port = port });
        var pong = await a.PingAsync(b2.LocalRecord, Within(20));
        Assert.Equal(b2.LocalRecord.Seq, pong.EnrSeq);
    }

    [Fact]
    public async Task An_unanswered_request_times_out_after_its_retries()
    {
        var silent = new EnrBuilder().SetIp(IPAddress.Loopback).SetUdp(9).Sign(IdentityKey.Generate(KeyType.Secp256k1));
        await using var a = Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1), new Discv5Options
        {
            ListenAddress = IPAddress.Loopback,
            RequestTimeout = TimeSpan.FromMilliseconds(300),
        });
        await Assert.ThrowsAsync<Discv5TimeoutException>(() => a.PingAsync(silent, Within(20)));
    }

    [Fact]
    public async Task Five_nodes_in_a_chain_find_each_other_by_lookups()
    {
        var nodes = new List<Discv5Node> { StartNode() };
        try
        {
            for (int i = 1; i < 5; i++) nodes.Add(StartNode(nodes[i - 1].LocalRecord));
            var ids = nodes.Select(n => n.LocalId).ToHashSet();
            foreach (var node in nodes)
            {
                for (int round = 0; round < 20 && ids.Any(id => id != node.LocalId && node.Table.Get(id) is null); round++)
                    await node.LookupAsync(RandomTarget(), Within(30));
            }
            foreach (var node in nodes)
                foreach (var id in ids.Where(id => id != node.LocalId))
                    Assert.NotNull(node.Table.Get(id));
        }
        finally
        {
            foreach (var n in nodes) await n.DisposeAsync();
        }
    }

    [Fact]
    public async Task DiscoverAsync_yields_only_what_the_filter_passes()
    {
        await using var hub = StartNode();
        var tagged = Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1), new Discv5Options
        {
            ListenAddress = IPAddress.Loopback,
            BootstrapNodes = [hub.LocalRecord],
            ConfigureRecord = b => b.Set("shard", [7]),
        });
        var plain = StartNode(hub.LocalRecord);
        try
        {
            await using var seeker = StartNode(hub.LocalRecord);
            var found = await seeker.FindPeersAsync(r => r.TryGetBytes("shard", out var s) && s.SequenceEqual(new byte[] { 7 }), 1, Within(30));
            Assert.Equal(tagged.LocalId, Assert.Single(found).NodeId);
        }
        finally
        {
            await tagged.DisposeAsync();
            await plain.DisposeAsync();
        }
    }

    [Fact]
    public void Lookup_distances_are_the_targets_and_its_neighbours()
    {
        var zero = new NodeId(new byte[32]);
        var bytes = new byte[32];
        bytes[31] = 0x10; // log-distance 5
        Assert.Equal([5, 6, 4], Discv5Node.LookupDistances(zero, new NodeId(bytes)));
        bytes[0] = 0x80;
        Assert.Equal([256, 255, 254], Discv5Node.LookupDistances(zero, new NodeId(bytes)));
        Assert.Equal([0, 1, 2], Discv5Node.LookupDistances(zero, zero));
    }

    static NodeId RandomTarget()
    {
        var bytes = new byte[32];
        Random.Shared.NextBytes(bytes);
        return new NodeId(bytes);
    }
}
