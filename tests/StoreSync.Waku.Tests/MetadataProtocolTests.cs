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
}
