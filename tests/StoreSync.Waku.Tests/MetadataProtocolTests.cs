using Google.Protobuf;
using StoreSync.Waku.Metadata;

namespace StoreSync.Waku.Tests;

public class MetadataProtocolTests
{
    readonly MetadataProtocol _protocol = new(1, [0, 5]);

    [Fact]
    public void Shards_are_written_unpacked_in_field_2_and_packed_in_field_3()
    {
        Assert.Equal("0801100010051a020005", Convert.ToHexStringLower(_protocol.CreateResponse().ToByteArray()));
        Assert.Equal("0801100010051a020005", Convert.ToHexStringLower(_protocol.CreateRequest().ToByteArray()));
    }

    [Theory]
    [InlineData("0801", true, "")]                 // js-waku light client: cluster, no shards
    [InlineData("080112020005", true, "0,5")]      // packed field 2
    [InlineData("0801100010051a020005", true, "0,5")] // nwaku: unpacked 2 and packed 3
    [InlineData("08011a0107", true, "7")]          // field 3 wins
    [InlineData("0810", false, "")]                // cluster 16
    [InlineData("", false, "")]                    // no cluster id
    [InlineData("08", false, "")]                  // truncated
    public void Checks_the_peer_cluster_and_reads_every_shard_form(string hex, bool keep, string shards)
    {
        var check = _protocol.Check(Convert.FromHexString(hex));
        Assert.Equal(keep, check.Keep);
        if (keep) Assert.Equal(shards, string.Join(",", check.Shards));
        else Assert.NotEmpty(check.Reason);
    }

    [Theory]
    [InlineData("0801", false, true)]                // a light client without shards: no relay, kept
    [InlineData("0801", true, true)]                 // a js-waku relay node: lists no shards, kept
    [InlineData("08011a0120", true, false)]          // a relay peer on shard 32 only
    [InlineData("08011a020520", true, true)]         // a relay peer on shards 5 and 32: 5 in common
    [InlineData("08011a0120", false, true)]          // shard 32 but not relay: nwaku compares shards only for relay peers
    public void Shards_are_compared_only_for_relay_peers_as_nwaku_does(string hex, bool relay, bool keep)
    {
        var check = _protocol.Check(Convert.FromHexString(hex), remoteIsRelay: relay);
        Assert.Equal(keep, check.Keep);
        if (!keep) Assert.StartsWith("no shards in common", check.Reason);
    }

    [Fact]
    public void A_node_on_cluster_0_checks_no_peer()
    {
        Assert.False(new MetadataProtocol(0, [0]).ChecksPeers);
        Assert.True(_protocol.ChecksPeers);
    }
}
