using StoreSync.Libp2p.Multiformats;
using StoreSync.Waku.Enr;
using StoreSync.Waku.Peers;

namespace StoreSync.Waku.Tests.Peers;

/// <summary>Whom a round dials and prunes: static nodes, then store-sync peers, then relay peers per shard, within the budget.</summary>
public class ConnectivityPlanTests
{
    static readonly Random Seeded = new(7);

    static PeerBook Book(params DiscoveredPeer[] peers)
    {
        var book = new PeerBook(PeerBookTests.NewPeer(), cluster: 1);
        foreach (var p in peers) Assert.True(book.Offer(p));
        return book;
    }

    static ConnectivityPlan Plan(PeerBook book, IReadOnlyList<ConnectedPeer> connected, PeerTargets? targets = null, ushort[]? relayShards = null) =>
        ConnectivityPlan.Make(book.Snapshot(), connected, targets ?? new PeerTargets(), 1, [0, 1], relayShards ?? [], book.MayDial, Seeded);

    [Fact]
    public void The_nwaku_defaults_give_thirty_relay_and_twenty_service_peers_ten_of_the_relay_ones_dialed()
    {
        var t = new PeerTargets();
        Assert.Equal((30, 20, 10, 20), (t.MaxRelayPeers, t.MaxServicePeers, t.OutRelayPeers, t.InRelayPeers));
        Assert.Equal(1, t.OutRelayPeersPerShard(8));
        Assert.Equal(5, t.OutRelayPeersPerShard(2));
        Assert.True(PeerTargets.TryParseRatio("60:40", out var ratio) && ratio == 0.6);
        Assert.False(PeerTargets.TryParseRatio("60:50", out _));
    }

    [Fact]
    public void Static_nodes_come_first_then_store_sync_peers_up_to_the_target_known_ones_before_unknown()
    {
        var s = PeerBookTests.Peer(PeerSources.Static);
        var sync = Enumerable.Range(0, 4).Select(_ => PeerBookTests.Peer(caps: WakuCapabilities.Sync | WakuCapabilities.Store)).ToArray();
        var unknown = Enumerable.Range(0, 4).Select(_ => PeerBookTests.Peer()).ToArray();
        var storeOnly = PeerBookTests.Peer(caps: WakuCapabilities.Store);
        var otherShard = PeerBookTests.Peer(caps: WakuCapabilities.Sync, shards: RelayShards.Create(1, [5]));
        var book = Book([s, .. sync, .. unknown, storeOnly, otherShard]);
        var plan = Plan(book, [], new PeerTargets { SyncPeers = 5 });
        Assert.Equal(s.Id, plan.Dial[0].Id);
        Assert.Equal(sync.Select(p => p.Id).ToHashSet(), plan.Dial.Skip(1).Take(4).Select(e => e.Id).ToHashSet());
        Assert.Contains(plan.Dial[5].Id, unknown.Select(p => p.Id));
        Assert.Equal(6, plan.Dial.Count);
        Assert.DoesNotContain(plan.Dial, e => e.Id == storeOnly.Id || e.Id == otherShard.Id);
        Assert.Empty(plan.Prune);

        // Connected sync peers count toward the target; peers in backoff are not dialed.
        book.Connected(sync[0].Id, null);
        book.Identified(sync[0].Id, [], ["/storesync/reconciliation/2.0.0"]);
        book.DialFailed(sync[1].Id);
        var next = Plan(book, [new(sync[0].Id, false)], new PeerTargets { SyncPeers = 3 });
        Assert.Equal(new[] { s.Id, sync[2].Id, sync[3].Id }.ToHashSet(), next.Dial.Select(e => e.Id).ToHashSet());
    }

    [Fact]
    public void Relay_peers_are_dialed_per_shard_to_the_target_store_sync_ones_first_and_surplus_inbound_is_pruned()
    {
        var targets = new PeerTargets { MaxConnections = 10, SyncPeers = 0 }; // 6 relay: 2 out, 4 in; over 2 shards 1 out and 2 in each
        var shard0 = Enumerable.Range(0, 3).Select(_ => PeerBookTests.Peer(caps: WakuCapabilities.Relay, shards: RelayShards.Create(1, [0]))).ToArray();
        var shard1Sync = PeerBookTests.Peer(caps: WakuCapabilities.Relay | WakuCapabilities.Sync, shards: RelayShards.Create(1, [1]));
        var shard1 = PeerBookTests.Peer(caps: WakuCapabilities.Relay, shards: RelayShards.Create(1, [1]));
        var inbound = Enumerable.Range(0, 4).Select(_ => PeerBookTests.Peer(caps: WakuCapabilities.Relay, shards: RelayShards.Create(1, [0]))).ToArray();
        var book = Book([.. shard0, shard1Sync, shard1, .. inbound]);
        foreach (var p in inbound) book.Connected(p.Id, null);
        var connected = inbound.Select(p => new ConnectedPeer(p.Id, Inbound: true)).ToList();

        var plan = Plan(book, connected, targets, relayShards: [0, 1]);
        Assert.Equal(2, plan.Dial.Count);
        Assert.Single(plan.Dial, e => shard0.Any(p => p.Id == e.Id));
        Assert.Contains(plan.Dial, e => e.Id == shard1Sync.Id);
        Assert.Equal(2, plan.Prune.Count);
        Assert.All(plan.Prune, id => Assert.Contains(id, inbound.Select(p => p.Id)));

        // Without relay no relay target: nothing to dial (sync target 0), nothing pruned.
        var off = Plan(book, connected, targets);
        Assert.Empty(off.Dial);
        Assert.Empty(off.Prune);
    }

    [Fact]
    public void A_round_dials_at_most_the_parallel_limit_and_the_free_connection_slots()
    {
        var peers = Enumerable.Range(0, 30).Select(_ => PeerBookTests.Peer(PeerSources.Static)).ToArray();
        var book = Book(peers);
        Assert.Equal(PeerTargets.MaxParallelDials, Plan(book, []).Dial.Count);
        var connected = Enumerable.Range(0, 48).Select(_ => new ConnectedPeer(PeerBookTests.NewPeer(), false)).ToList();
        Assert.Equal(2, Plan(book, connected).Dial.Count);
        Assert.Empty(Plan(book, [.. connected, .. connected.Take(2).Select(c => c with { Id = PeerBookTests.NewPeer() })]).Dial);
    }

    [Fact]
    public void An_address_of_another_peer_is_never_dialed_as_this_one()
    {
        var p = PeerBookTests.Peer(PeerSources.Static) with { Addresses = [Multiaddr.Parse("/ip4/127.0.0.1/tcp/1/p2p/" + PeerBookTests.NewPeer())] };
        var book = Book(p);
        Assert.Null(book.Find(p.Id)!.Addresses[0].PeerId); // the book keeps addresses without /p2p; the dial adds the entry's own id
    }
}
