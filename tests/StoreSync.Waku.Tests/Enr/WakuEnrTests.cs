using System.Net;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Waku.Enr;

namespace StoreSync.Waku.Tests.Enr;

/// <summary>Waku's ENR fields: the bytes nwaku's encoders give, the rs/rsv switch at 64 shards, and round trips through a signed record.</summary>
public class WakuEnrTests
{
    static readonly byte[] Key = Secp256k1Signatures.GeneratePrivateKey();

    [Fact]
    public void Rs_is_cluster_count_then_shards_big_endian()
    {
        Assert.Equal(Convert.FromHexString("0001020000000a"), RelayShards.Create(1, [0, 10]).EncodeIndicesList());
        var vector = RelayShards.Create(1, [0, 9, 1023]).EncodeBitVector();
        Assert.Equal(130, vector.Length);
        Assert.Equal((byte)0x01, vector[2]);
        Assert.Equal((byte)0x02, vector[3]);
        Assert.Equal((byte)0x80, vector[129]);
        Assert.Equal([0, 9, 1023], RelayShards.DecodeBitVector(vector)!.Shards);
    }

    [Fact]
    public void A_record_with_every_waku_field_round_trips()
    {
        var ws = Multiaddr.Parse("/ip4/10.0.0.1/tcp/8000/ws");
        var record = new EnrBuilder().SetIp(IPAddress.Loopback).SetTcp(60000).SetUdp(9000)
            .SetWakuCapabilities(WakuCapabilities.Relay | WakuCapabilities.Store | WakuCapabilities.Lightpush | WakuCapabilities.Sync)
            .SetRelayShards(RelayShards.Create(1, [0, 1, 2]))
            .SetMultiaddrs([ws])
            .Sign(Key);
        var decoded = EnrRecord.Parse(record.ToText());
        Assert.Equal(WakuCapabilities.Relay | WakuCapabilities.Store | WakuCapabilities.Lightpush | WakuCapabilities.Sync, WakuEnr.WakuCapabilitiesOf(decoded));
        Assert.Equal((byte)0b11011, decoded.TryGetBytes(WakuEnr.CapabilitiesKey, out var raw) ? raw[0] : 0);
        var shards = WakuEnr.RelayShardsOf(decoded)!;
        Assert.Equal((ushort)1, shards.ClusterId);
        Assert.Equal([0, 1, 2], shards.Shards);
        Assert.True(decoded.Has(RelayShards.IndicesListKey));
        Assert.Equal([ws], WakuEnr.MultiaddrsOf(decoded));
    }

    [Fact]
    public void Sixty_four_shards_or_more_go_in_rsv()
    {
        var many = RelayShards.Create(16, Enumerable.Range(0, 64).Select(i => (ushort)i));
        var record = new EnrBuilder().SetRelayShards(RelayShards.Create(16, [1])).SetRelayShards(many).Sign(Key);
        Assert.False(record.Has(RelayShards.IndicesListKey));
        Assert.Equal(64, WakuEnr.RelayShardsOf(record)!.Shards.Count);
    }

    /// <summary>Made by @waku/enr 0.0.33's EnrEncoder (via @waku/sdk 0.0.36 in tests/Interop/waku): relay+store, rs cluster 1 shards 3 and 5, a /wss multiaddr.</summary>
    const string JsWakuRecord = "enr:-Lu4QChcVLn9rT3jsiWSqL_ZFdlBOm1IQi1V-KF3TXmToqRSflKIskTF8KTa1BFRssDXkpD4PaW59fq6bZ7oTwJNBmQGgmlkgnY0gmlwhH8AAAGKbXVsdGlhZGRyc5kAFzYQbm9kZS5leGFtcGxlLm9yZwYBu94DgnJzhwABAgADAAWJc2VjcDI1NmsxoQKTAX_yv6zAOBKTvyG5CGaUE6VF2wWojGYwnqlaCKaqNoN0Y3CC6mGFd2FrdTID";

    [Fact]
    public void A_record_made_by_js_waku_decodes()
    {
        var record = EnrRecord.Parse(JsWakuRecord);
        Assert.Equal(WakuCapabilities.Relay | WakuCapabilities.Store, WakuEnr.WakuCapabilitiesOf(record));
        var shards = WakuEnr.RelayShardsOf(record)!;
        Assert.Equal((ushort)1, shards.ClusterId);
        Assert.Equal([3, 5], shards.Shards);
        Assert.Equal([Multiaddr.Parse("/dns4/node.example.org/tcp/443/wss")], WakuEnr.MultiaddrsOf(record));
        Assert.Equal((ushort?)60001, record.Tcp);
    }

    [Fact]
    public void Malformed_fields_read_as_absent()
    {
        var record = new EnrBuilder().Set(WakuEnr.CapabilitiesKey, [1, 2]).Set(RelayShards.IndicesListKey, [0, 1, 2, 0])
            .Set(WakuEnr.MultiaddrsKey, [0, 50, 1, 2]).Sign(Key);
        Assert.Null(WakuEnr.WakuCapabilitiesOf(record));
        Assert.Null(WakuEnr.RelayShardsOf(record));
        Assert.Empty(WakuEnr.MultiaddrsOf(record));
        Assert.Throws<ArgumentException>(() => RelayShards.Create(1, [1024]));
    }
}
