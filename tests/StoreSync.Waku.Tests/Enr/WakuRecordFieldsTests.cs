using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Reconciliation.Nwaku;
using StoreSync.Waku.Enr;
using StoreSync.Waku.LightPush;
using StoreSync.Waku.Relay;
using StoreSync.Waku.Store;

namespace StoreSync.Waku.Tests.Enr;

/// <summary>What a node writes into its own record: the waku2 bits for its protocols, and multiaddrs trimmed to fit 300 bytes.</summary>
public class WakuRecordFieldsTests
{
    static readonly byte[] Key = Secp256k1Signatures.GeneratePrivateKey();

    [Fact]
    public void Capabilities_follow_the_mounted_protocols_and_lightpush_needs_relay()
    {
        string[] storeNode = [StoreQueryServer.ProtocolId, LightPushServer.ProtocolIdV3, NwakuReconciliation.ProtocolId];
        Assert.Equal(WakuCapabilities.Store | WakuCapabilities.Sync, WakuCapabilityProtocols.For(storeNode));
        Assert.Equal(WakuCapabilities.Relay | WakuCapabilities.Store | WakuCapabilities.Lightpush | WakuCapabilities.Sync,
            WakuCapabilityProtocols.For([.. storeNode, RelayLimits.ProtocolId]));
        Assert.Equal(WakuCapabilities.Filter, WakuCapabilityProtocols.For([WakuCapabilityProtocols.FilterSubscribeProtocolId]));
        Assert.Equal(WakuCapabilities.None, WakuCapabilityProtocols.For(["/ipfs/ping/1.0.0"]));
    }

    [Fact]
    public void Length_is_the_signed_record_s_length()
    {
        var builder = new EnrBuilder().SetTcp(60000).SetWakuCapabilities(WakuCapabilities.Store);
        int predicted = builder.Length;
        Assert.Equal(predicted, builder.Sign(Key).Encode().Length);
        Assert.Equal(predicted, builder.Length); // reading it changes nothing
    }

    [Fact]
    public void Multiaddrs_that_would_overflow_the_record_are_dropped_from_the_end()
    {
        var addresses = Enumerable.Range(0, 12).Select(i => Multiaddr.Parse($"/dns4/node-{i}.storesync.example.org/tcp/{8000 + i}/wss")).ToList();
        var builder = new EnrBuilder().SetTcp(60000).SetUdp(9000);
        int written = builder.SetMultiaddrsThatFit(addresses);
        Assert.InRange(written, 1, addresses.Count - 1);
        var record = builder.Sign(Key);
        Assert.Equal(addresses.Take(written), WakuEnr.MultiaddrsOf(record));
        Assert.Equal(0, new EnrBuilder().SetMultiaddrsThatFit([Multiaddr.Parse("/dns4/" + new string('a', 300) + "/tcp/1/wss")]));
    }

    [Fact]
    public void The_peer_filter_wants_our_cluster_and_a_shared_shard_as_nwaku()
    {
        EnrRecord Make(WakuCapabilities? bits, RelayShards? shards)
        {
            var b = new EnrBuilder();
            if (bits is { } w) b.SetWakuCapabilities(w);
            if (shards is not null) b.SetRelayShards(shards);
            return b.Sign(Key);
        }
        ushort[] ours = [0, 1];
        Assert.True(WakuPeerFilter.Accepts(Make(WakuCapabilities.Store, RelayShards.Create(1, [1, 5])), 1, ours));
        Assert.False(WakuPeerFilter.Accepts(Make(WakuCapabilities.Store, RelayShards.Create(1, [5])), 1, ours));
        Assert.False(WakuPeerFilter.Accepts(Make(WakuCapabilities.Store, RelayShards.Create(2, [0])), 1, ours));
        Assert.False(WakuPeerFilter.Accepts(Make(null, RelayShards.Create(1, [0])), 1, ours));
        Assert.False(WakuPeerFilter.Accepts(Make(WakuCapabilities.None, RelayShards.Create(1, [0])), 1, ours));
        Assert.False(WakuPeerFilter.Accepts(Make(WakuCapabilities.Relay, null), 1, ours));
        // On no shard only the cluster counts (nwaku's predicate is off then).
        Assert.True(WakuPeerFilter.Accepts(Make(null, null), 1, []));
        Assert.False(WakuPeerFilter.Accepts(Make(null, RelayShards.Create(2, [0])), 1, []));
    }
}
