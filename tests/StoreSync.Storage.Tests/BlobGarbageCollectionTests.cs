using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>Blob GC runs only while deletes have left garbage in the blob files, and then reclaims the space of a topic deleted out
/// of files it shared with another (real RocksDB, compactions forced so that garbage shows at once).</summary>
public sealed class BlobGarbageCollectionTests
{
    const string Pubsub = "/waku/2/rs/1/0", A = "/a/1/room/proto", B = "/b/1/room/proto";
    const int PerFile = 1000, Files = 4, BodyBytes = 1000;

    [Fact]
    public void Garbage_collection_is_off_while_the_store_only_grows_and_on_until_a_deleted_topics_bodies_are_reclaimed()
    {
        using var t = new TempStore();
        var body = new string('x', BodyBytes);
        for (int f = 0; f < Files; f++)
        {
            // A and B interleaved: every blob file holds bodies of both.
            var batch = Enumerable.Range(f * PerFile, PerFile).Select(i => new IngestItem(Pubsub, TempStore.Message(i % 2 == 0 ? A : B, 1_000_000 + i, body + i))).ToList();
            Assert.Equal(PerFile, t.Store.Ingest(batch).Inserted);
            t.Store.CompactAll(); // one flush, so one blob file, per batch
        }
        var grown = t.Store.GetBlobFiles();
        Assert.False(grown.CollectingGarbage);
        Assert.Equal(0, grown.GarbageBytes);
        Assert.InRange(grown.TotalBytes, Files * PerFile * BodyBytes, Files * PerFile * (BodyBytes + 200));

        Assert.Equal(Files * PerFile / 2, t.Store.DeleteRange(Pubsub, A, long.MinValue, long.MaxValue));
        t.Store.CompactAll(); // drops A's keys: half of every file is garbage now, which no file-dropping can reclaim
        var halfDead = t.Store.GetBlobFiles();
        Assert.True(halfDead.CollectingGarbage);
        Assert.InRange(halfDead.GarbageBytes, halfDead.TotalBytes * 4 / 10, halfDead.TotalBytes * 6 / 10);

        // Each compaction relocates B's bodies out of the oldest quarter of the blob files, which then go; bounded rounds.
        for (int round = 0; round < 20 && t.Store.GetBlobFiles().CollectingGarbage; round++) t.Store.CompactAll();
        var reclaimed = t.Store.GetBlobFiles();
        Assert.False(reclaimed.CollectingGarbage);
        Assert.True(reclaimed.GarbageBytes < reclaimed.TotalBytes * BlobGarbageCollection.OffShare, $"{reclaimed}");
        Assert.InRange(reclaimed.TotalBytes, Files * PerFile / 2 * BodyBytes, Files * PerFile / 2 * (BodyBytes + 200));
        Assert.Equal(Files * PerFile / 2, t.Store.GetFigures(Pubsub, B).Messages);
        Assert.Empty(StoreIntegrity.Check(t.Store));

        t.Reopen(); // decided again from RocksDB's figures at open
        Assert.False(t.Store.GetBlobFiles().CollectingGarbage);
    }
}
