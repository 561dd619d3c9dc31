using System.Net;
using Microsoft.Extensions.Time.Testing;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Waku.Enr;
using StoreSync.Waku.Peers;

namespace StoreSync.Waku.Tests.Peers;

/// <summary>The peer book: peers from records, merging per peer, the cluster filter, nwaku's backoff, eviction, the file.</summary>
public class PeerBookTests
{
    internal static PeerId NewPeer() => IdentityKey.Generate(KeyType.Ed25519).PeerId;

    internal static DiscoveredPeer Peer(PeerSources source = PeerSources.Discv5, int port = 60000, WakuCapabilities? caps = null, RelayShards? shards = null) =>
        new(NewPeer(), [Multiaddr.Parse($"/ip4/127.0.0.1/tcp/{port}")], source, caps, shards);

    [Fact]
    public void A_record_gives_the_peer_id_of_its_key_its_addresses_capabilities_and_shards()
    {
        var key = IdentityKey.Generate(KeyType.Secp256k1);
        var record = new EnrBuilder().SetIp(IPAddress.Loopback).SetTcp(60123).SetUdp(9000)
            .SetWakuCapabilities(WakuCapabilities.Relay | WakuCapabilities.Store | WakuCapabilities.Sync)
            .SetRelayShards(RelayShards.Create(1, [0, 3]))
            .SetMultiaddrs([Multiaddr.Parse("/ip4/127.0.0.1/tcp/8000/ws")])
            .Sign(key);
        var peer = DiscoveredPeer.FromEnr(record, PeerSources.Discv5);
        Assert.Equal(key.PeerId, peer.Id);
        Assert.Equal(["/ip4/127.0.0.1/tcp/60123", "/ip4/127.0.0.1/tcp/8000/ws"], peer.Addresses.Select(a => a.ToString()));
        Assert.Equal(WakuCapabilities.Relay | WakuCapabilities.Store | WakuCapabilities.Sync, peer.Capabilities);
        Assert.Equal([0, 3], peer.Shards!.Shards.Select(s => (int)s));
        Assert.Same(record, peer.Enr);
    }

    [Fact]
    public void Sources_merge_per_peer_and_self_other_clusters_and_addressless_peers_are_refused()
    {
        var self = NewPeer();
        var book = new PeerBook(self, cluster: 1);
        var p = Peer(PeerSources.Discv5);
        Assert.True(book.Offer(p));
        Assert.True(book.Offer(p with { Source = PeerSources.PeerExchange, Addresses = [Multiaddr.Parse("/ip4/127.0.0.1/tcp/1")], Capabilities = WakuCapabilities.Relay }));
        var entry = book.Find(p.Id)!;
        Assert.Equal(PeerSources.Discv5 | PeerSources.PeerExchange, entry.Sources);
        Assert.Equal(2, entry.Addresses.Count);
        Assert.Equal(WakuCapabilities.Relay, entry.Capabilities);

        Assert.False(book.Offer(p with { Id = self }));
        Assert.False(book.Offer(Peer(shards: RelayShards.Create(2, [0]))));
        Assert.False(book.Offer(Peer() with { Addresses = [] }));
        Assert.Equal(1, book.Count);
    }

    [Fact]
    public void Identify_protocols_say_what_a_peer_serves_once_known()
    {
        var book = new PeerBook(NewPeer());
        var p = Peer(caps: WakuCapabilities.Store);
        book.Offer(p);
        Assert.True(book.Find(p.Id)!.MayServe(WakuCapabilities.Store));
        Assert.False(book.Find(p.Id)!.MayServe(WakuCapabilities.Sync));
        book.Connected(p.Id, p.Addresses[0]);
        book.Identified(p.Id, [Multiaddr.Parse("/ip4/0.0.0.0/tcp/5"), Multiaddr.Parse("/ip4/127.0.0.2/tcp/6")],
            ["/ipfs/id/1.0.0", "/vac/waku/relay/2.0.0", "/storesync/reconciliation/2.0.0"]);
        var entry = book.Find(p.Id)!;
        Assert.Equal(WakuCapabilities.Relay | WakuCapabilities.Sync, entry.Capabilities);
        Assert.Equal(["/storesync/reconciliation/2.0.0", "/vac/waku/relay/2.0.0"], entry.Protocols);
        Assert.Contains(Multiaddr.Parse("/ip4/127.0.0.2/tcp/6"), entry.Addresses);
        Assert.DoesNotContain(Multiaddr.Parse("/ip4/0.0.0.0/tcp/5"), entry.Addresses);
    }

    [Fact]
    public void Failed_dials_back_off_as_nwaku_and_a_peer_is_given_up_after_five()
    {
        Assert.Equal([0, 120, 480, 1920, 7680, 7680, 7680], Enumerable.Range(0, 7).Select(f => DialBackoff.Default.Delay(f).TotalSeconds));
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20000));
        var book = new PeerBook(NewPeer(), clock: clock);
        var p = Peer();
        book.Offer(p);
        book.DialFailed(p.Id);
        Assert.False(book.MayDial(book.Find(p.Id)!));
        clock.Advance(TimeSpan.FromSeconds(119));
        Assert.False(book.MayDial(book.Find(p.Id)!));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(book.MayDial(book.Find(p.Id)!));
        for (int i = 0; i < 4; i++) book.DialFailed(p.Id);
        clock.Advance(TimeSpan.FromDays(30));
        Assert.False(book.MayDial(book.Find(p.Id)!)); // given up

        var s = Peer(PeerSources.Static);
        book.Offer(s);
        for (int i = 0; i < 10; i++) book.DialFailed(s.Id);
        clock.Advance(DialBackoff.StaticCap);
        Assert.True(book.MayDial(book.Find(s.Id)!)); // a static node waits at most 30 s, and is never given up
    }

    [Fact]
    public void A_newer_record_gives_a_given_up_peer_its_dials_back_and_a_connection_clears_failures()
    {
        var key = IdentityKey.Generate(KeyType.Secp256k1);
        var first = new EnrBuilder().SetIp(IPAddress.Loopback).SetTcp(1).Sign(key);
        var book = new PeerBook(NewPeer());
        book.Offer(DiscoveredPeer.FromEnr(first, PeerSources.Discv5));
        var id = key.PeerId;
        for (int i = 0; i < 5; i++) book.DialFailed(id);
        book.Offer(DiscoveredPeer.FromEnr(first, PeerSources.Discv5));
        Assert.Equal(5, book.Find(id)!.Failures);
        book.Offer(DiscoveredPeer.FromEnr(EnrBuilder.From(first).SetTcp(2).Sign(key), PeerSources.Discv5));
        Assert.Equal(0, book.Find(id)!.Failures);
        book.DialFailed(id);
        book.Connected(id, Multiaddr.Parse("/ip4/127.0.0.1/tcp/2"));
        Assert.Equal(0, book.Find(id)!.Failures);
        Assert.True(book.IsConnected(id));
        book.Disconnected(id);
        Assert.False(book.IsConnected(id));
    }

    [Fact]
    public void A_full_book_evicts_a_given_up_or_unproven_peer_keeps_static_and_connected_ones_and_refuses_when_all_are_proven()
    {
        var book = new PeerBook(NewPeer(), capacity: 3);
        var s = Peer(PeerSources.Static);
        var connected = Peer();
        var failing = Peer();
        book.Offer(s);
        book.Offer(connected);
        book.Offer(failing);
        book.Connected(connected.Id, connected.Addresses[0]);
        for (int i = 0; i < 5; i++) book.DialFailed(failing.Id);
        var fresh = Peer();
        Assert.True(book.Offer(fresh));
        Assert.Null(book.Find(failing.Id));
        Assert.Equal(3, book.Count);

        book.Connected(fresh.Id, fresh.Addresses[0]);
        book.Disconnected(fresh.Id); // proven: connected once
        Assert.False(book.Offer(Peer()));
        Assert.True(book.Offer(Peer(PeerSources.Static))); // the operator's node always finds room
        Assert.NotNull(book.Find(s.Id));
        Assert.NotNull(book.Find(connected.Id));
        Assert.Equal(3, book.Count);
    }

    [Fact]
    public void The_file_round_trips_the_book_and_a_damaged_file_is_an_empty_book()
    {
        var dir = Path.Combine(Path.GetTempPath(), "storesync-peers-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(dir, PeerBookFile.FileName);
            var key = IdentityKey.Generate(KeyType.Secp256k1);
            var record = new EnrBuilder().SetIp(IPAddress.Loopback).SetTcp(7).SetWakuCapabilities(WakuCapabilities.Sync).SetRelayShards(RelayShards.Create(1, [2])).Sign(key);
            var book = new PeerBook(NewPeer());
            book.Offer(DiscoveredPeer.FromEnr(record, PeerSources.Discv5));
            book.Offer(Peer(PeerSources.Static));
            book.Connected(key.PeerId, null);
            book.Identified(key.PeerId, [], ["/vac/waku/relay/2.0.0"]);
            book.DialFailed(key.PeerId);
            PeerBookFile.Save(path, book.Snapshot());
            Assert.Single(Directory.GetFiles(dir)); // no temporary left

            var again = new PeerBook(NewPeer());
            Assert.Equal(2, again.Restore(PeerBookFile.Load(path)));
            foreach (var e in book.Snapshot())
            {
                var r = again.Find(e.Id)!;
                Assert.Equal(e.Addresses, r.Addresses);
                Assert.Equal(e.Sources, r.Sources);
                Assert.Equal(e.RecordCapabilities, r.RecordCapabilities);
                Assert.Equal(e.Shards?.ClusterId, r.Shards?.ClusterId);
                Assert.Equal(e.Shards?.Shards, r.Shards?.Shards);
                Assert.Equal(e.Protocols, r.Protocols);
                Assert.Equal(e.Enr, r.Enr);
                Assert.Equal(e.EnrSeq, r.EnrSeq);
                Assert.Equal(e.Failures, r.Failures);
                Assert.Equal(e.LastConnected?.ToUnixTimeMilliseconds(), r.LastConnected?.ToUnixTimeMilliseconds());
                Assert.False(again.IsConnected(e.Id));
            }

            File.WriteAllText(path, "{\"format\":1,\"peers\":[{\"id\":\"nope\"}, ");
            Assert.Empty(PeerBookFile.Load(path));
            Assert.Empty(PeerBookFile.Load(Path.Combine(dir, "absent.json")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
