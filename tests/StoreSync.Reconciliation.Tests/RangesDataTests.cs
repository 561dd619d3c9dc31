using StoreSync.Core;
using StoreSync.Reconciliation.Nwaku;

namespace StoreSync.Reconciliation.Tests;

/// <summary>The worked examples of spec/sync.md §2.4, byte for byte, and hostile frames.</summary>
public class RangesDataTests
{
    const long T0 = TestItems.T0;

    public static TheoryData<string, string> Examples => new()
    {
        { "empty", "00" },
        { "skip", "010e2f77616b752f322f72732f312f30008080a8b1e39fe7cb1780b09dc2df0100" },
        { "fingerprint", "010e2f77616b752f322f72732f312f3001112f6170702f312f636861742f70726f746f8080a8b1e39fe7cb1780c0e285e368010102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20" },
        { "itemset-unreconciled", "00008080a8b1e39fe7cb170a02028580a8b1e39fe7cb17aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb00" },
        { "itemset-reconciled", "00008080a8b1e39fe7cb170a020001a2020201c881a8b1e39fe7cb17010101010101010101010101010101010101010101010101010101010101010101" },
        { "equal-timestamp", "00008080a8b1e39fe7cb17000300007f0122222222222222222222222222222222222222222222222222222222222222226400" },
        { "topics", "020e2f77616b752f322f72732f312f300e2f77616b752f322f72732f312f33030c2f612f312f782f70726f746f0c2f622f312f792f70726f746f0c2f632f312f7a2f70726f746f8080a8b1e39fe7cb178094ebdc03020001" },
    };

    static MessageHash Fill(byte b) => MessageHash.Read(Enumerable.Repeat(b, 32).ToArray());

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_decodes_and_reencodes_byte_identically(string name, string hex)
    {
        var bytes = Convert.FromHexString(hex);
        var decoded = RangesData.Decode(bytes);
        Assert.Equal(hex, Convert.ToHexStringLower(decoded.Encode()));
        Assert.NotNull(name);
    }

    [Fact]
    public void Examples_decode_to_the_documented_models()
    {
        var ex = Examples.ToDictionary(row => (string)row[0], row => RangesData.Decode(Convert.FromHexString((string)row[1])));
        Assert.True(ex["empty"].IsEmpty);

        var skip = Assert.Single(ex["skip"].Ranges);
        Assert.Equal(["/waku/2/rs/1/0"], ex["skip"].PubsubTopics);
        Assert.Equal((SyncItem.At(T0), SyncItem.At(T0 + 60_000_000_000), RangeType.Skip), (skip.Lower, skip.Upper, skip.Type));

        var fp = Assert.Single(ex["fingerprint"].Ranges);
        Assert.Equal(["/app/1/chat/proto"], ex["fingerprint"].ContentTopics);
        Assert.Equal(MessageHash.Read(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()), fp.Fingerprint);
        Assert.Equal(T0 + 3_600_000_000_000, fp.Upper.Timestamp);

        var set = Assert.Single(ex["itemset-unreconciled"].Ranges).Items!;
        Assert.False(set.Reconciled);
        Assert.Equal([new SyncItem(T0 + 5, Fill(0xAA)), new SyncItem(T0 + 7, Fill(0xBB))], set.Elements);

        var rec = ex["itemset-reconciled"].Ranges;
        Assert.True(rec[0].Items!.Reconciled && rec[0].Items!.Elements.Count == 0);
        Assert.Equal(new SyncItem(T0 + 200, Fill(0x01)), Assert.Single(rec[1].Items!.Elements));
        Assert.Equal(SyncItem.At(T0 + 10), rec[1].Lower);

        var eq = ex["equal-timestamp"].Ranges;
        var prefix = new byte[32]; prefix[2] = 0x7f; // only 00 00 7f travel; the rest of the hash is dropped
        Assert.Equal(new SyncItem(T0, MessageHash.Read(prefix)), eq[0].Upper);
        Assert.Equal(SyncItem.At(T0), eq[1].Lower);

        Assert.Equal(["/waku/2/rs/1/0", "/waku/2/rs/1/3"], ex["topics"].PubsubTopics);
        Assert.Equal(3, ex["topics"].ContentTopics.Count);
    }

    [Fact]
    public void Encoder_sends_only_the_distinguishing_hash_prefix()
    {
        var full = new byte[32]; full[2] = 0x7f; full[3] = 0x11; full[31] = 0x99;
        var data = new RangesData
        {
            Ranges = [new SyncRange(SyncItem.At(T0), new SyncItem(T0, MessageHash.Read(full)), RangeType.Fingerprint, Fill(0x22)),
                      SyncRange.Skip(SyncItem.At(T0), SyncItem.At(T0 + 100))],
        };
        Assert.Equal((string)Examples.Single(r => (string)r[0] == "equal-timestamp")[1], Convert.ToHexStringLower(data.Encode()));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_truncation_is_a_clean_error_or_a_shorter_payload(string name, string hex)
    {
        var bytes = Convert.FromHexString(hex);
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            try { RangesData.Decode(bytes.AsSpan(0, cut)); }
            catch (SyncProtocolException) { }
        }
        Assert.NotNull(name);
    }

    [Theory]
    [InlineData("0000808080800103ff", "range type")]            // range type 3
    [InlineData("00000a0a02010a" + "11111111111111111111111111111111111111111111111111111111111111112200", "reconciled")] // flag 2
    [InlineData("00000a0a02ffffffff0f00", "item set length")]  // 4 billion elements in a 10-byte frame
    [InlineData("00000a00210000", "hash prefix")]              // prefix of 33 bytes
    [InlineData("ffffffffffffffffffffff", "varint")]           // overlong varint
    [InlineData("05000000", "pubsub topic count")]             // 5 topics announced, 3 bytes left
    public void Hostile_frames_are_rejected(string hex, string what)
    {
        var error = Assert.Throws<SyncProtocolException>(() => RangesData.Decode(Convert.FromHexString(hex)));
        Assert.Contains(what.Split(' ')[0], error.Message);
    }

    [Fact]
    public void A_single_trailing_byte_is_ignored_as_nwaku_does()
    {
        var decoded = RangesData.Decode(Convert.FromHexString("00000a0a0007"));
        Assert.Single(decoded.Ranges);
    }
}
