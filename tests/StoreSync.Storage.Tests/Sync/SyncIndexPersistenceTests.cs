using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Storage.Sync;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests.Sync;

/// <summary>The sync indexes survive a restart: saved when the store closes, loaded only when the store was not written since;
/// otherwise (a crash after writes, writes after the save, a damaged file, another scope) rebuilt from the store.</summary>
public sealed class SyncIndexPersistenceTests
{
    const string Topic = "/waku/2/rs/1/0", Other = "/waku/2/rs/1/1";
    static readonly string[] Topics = [Topic, Other];
    static readonly long T0 = Timestamp.Now() - TimeSpan.FromDays(10).Ticks * 100;

    static List<IngestItem> Messages(Random rng, int count, string tag) =>
        [.. Enumerable.Range(0, count).Select(i => new IngestItem(Topics[rng.Next(2)],
            TempStore.Message($"/app/1/c{rng.Next(3)}/proto", T0 + rng.NextInt64(1_000_000_000_000L), $"{tag}{i}-{rng.Next()}")))];

    sealed class Node : IDisposable
    {
        public TempStore Store { get; } = new();
        public string Directory => Path.Combine(Store.Path, "sync-index");

        public SyncIndexes Open(IReadOnlyList<string>? contentTopics = null)
        {
            var indexes = new SyncIndexes(Store.Store, Topics, contentTopics, directory: Directory);
            indexes.Build();
            return indexes;
        }

        public void Dispose() => Store.Dispose();

        /// <summary>A store of <paramref name="count"/> messages whose indexes were built and then saved by a clean close.</summary>
        public static Node Saved(Random rng, int count)
        {
            var node = new Node();
            node.Store.Store.Ingest(Messages(rng, count, "a"));
            node.Open();
            node.Store.Reopen();
            return node;
        }
    }

    /// <summary>Every index equals one freshly built from the store: counts and fingerprints of random ranges.</summary>
    static void AssertExact(SyncIndexes indexes, MessageStore store, Random rng)
    {
        foreach (var index in indexes.AllIndexes)
        {
            var fresh = FingerprintIndex.Build(store.SyncItems(index.Scope));
            Assert.Equal(fresh.Count, index.Count);
            Assert.Equal(fresh.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue), index.GetFingerprint(SyncItem.MinValue, SyncItem.MaxValue));
            for (int k = 0; k < 40; k++)
            {
                var (a, b) = (SyncItem.At(T0 + rng.NextInt64(1_000_000_000_000L)), SyncItem.At(T0 + rng.NextInt64(1_000_000_000_000L)));
                if (a > b) (a, b) = (b, a);
                Assert.Equal(fresh.GetFingerprint(a, b), index.GetFingerprint(a, b));
            }
        }
    }

    [Fact]
    public void A_clean_shutdown_saves_the_indexes_and_the_next_start_loads_them_and_keeps_them_live()
    {
        var rng = new Random(1);
        using var node = new Node();
        node.Store.Store.Ingest(Messages(rng, 3_000, "a"));
        var first = node.Open();
        Assert.Equal(0, first.LoadedCount);
        node.Store.Store.Ingest(Messages(rng, 500, "b")); // live updates before the save are in it

        node.Store.Reopen(); // a clean close: the store's closing handler saves every index
        Assert.Equal(2, System.IO.Directory.GetFiles(node.Directory, "*.fpi").Length);
        var second = node.Open();

        Assert.Equal(2, second.LoadedCount);
        Assert.All(second.Indexes, i => Assert.Null(i.NotLoadedReason));
        AssertExact(second, node.Store.Store, rng);
        // Live after loading: inserts and deletes (retention) are applied.
        var more = Messages(rng, 700, "c");
        node.Store.Store.Ingest(more);
        node.Store.Store.Delete(more.Take(200).Select(m => MessageHash.Compute(m.PubsubTopic, m.Message)).ToList());
        AssertExact(second, node.Store.Store, rng);

        // And again: saved with those writes, loaded exactly.
        node.Store.Reopen();
        var third = node.Open();
        Assert.Equal(2, third.LoadedCount);
        AssertExact(third, node.Store.Store, rng);
    }

    [Fact]
    public void Writes_after_the_save_without_a_new_save_make_the_next_start_rebuild()
    {
        var rng = new Random(2);
        using var node = Node.Saved(rng, 2_000);
        // The node runs without saving again, as if killed after these writes: kill -9 runs no closing handler, which is what
        // opening the store without the sync indexes reproduces.
        node.Store.Store.Ingest(Messages(rng, 300, "b"));
        node.Store.Store.Delete([MessageHash.Compute(Topic, TempStore.Message("/app/1/c0/proto", T0, "never stored"))]);
        node.Store.Reopen();

        var indexes = node.Open();

        Assert.Equal(0, indexes.LoadedCount);
        Assert.All(indexes.Indexes, i => Assert.Contains("written since", i.NotLoadedReason));
        AssertExact(indexes, node.Store.Store, rng);
    }

    [Fact]
    public void A_reopen_without_writes_keeps_the_sequence_number_so_an_old_save_is_still_valid()
    {
        var rng = new Random(3);
        using var node = Node.Saved(rng, 1_000);
        ulong sequence = node.Store.Store.LastSequenceNumber;
        node.Store.Reopen(); // closed again without the indexes: nothing written
        Assert.Equal(sequence, node.Store.Store.LastSequenceNumber);

        var indexes = node.Open();
        Assert.Equal(2, indexes.LoadedCount);
        AssertExact(indexes, node.Store.Store, rng);
    }

    [Fact]
    public void A_damaged_truncated_or_foreign_file_is_not_used()
    {
        var rng = new Random(4);
        using var node = Node.Saved(rng, 1_500);
        string topicFile = SyncIndexFile.PathOf(node.Directory, new SyncScope([Topic], []));
        string otherFile = SyncIndexFile.PathOf(node.Directory, new SyncScope([Other], []));
        var bytes = File.ReadAllBytes(topicFile);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(topicFile, bytes);
        File.WriteAllBytes(otherFile, File.ReadAllBytes(otherFile)[..100]);

        var indexes = node.Open();

        Assert.Equal(0, indexes.LoadedCount);
        AssertExact(indexes, node.Store.Store, rng);
        Assert.Throws<InvalidDataException>(() => SyncIndexFile.Read(topicFile));

        // Narrowed to content topics: the whole-topic files are for another scope (and named differently), so it rebuilds.
        node.Store.Reopen();
        var narrowed = node.Open(["/app/1/c1/proto"]);
        Assert.Equal(0, narrowed.LoadedCount);
        AssertExact(narrowed, node.Store.Store, rng);
        node.Store.Reopen();
        var again = node.Open(["/app/1/c1/proto"]);
        Assert.Equal(2, again.LoadedCount);
        AssertExact(again, node.Store.Store, rng);
    }

    [Fact]
    public void A_file_saved_for_one_scope_is_refused_for_another()
    {
        using var node = Node.Saved(new Random(5), 200);
        var saved = SyncIndexFile.Read(SyncIndexFile.PathOf(node.Directory, new SyncScope([Topic], [])))!;
        var index = SyncIndex.Create(node.Store.Store, Other, [], saved);
        Assert.False(index.Loaded);
        Assert.Equal("saved for another scope", index.NotLoadedReason);
    }

    [Fact]
    public void A_community_scope_s_index_is_saved_loaded_and_rebuilt_like_the_per_topic_ones()
    {
        var rng = new Random(6);
        using var node = new Node();
        node.Store.Store.Ingest(Messages(rng, 3_000, "a"));
        var community = new SyncScope(Topics, ["/app/1/c0/proto", "/app/1/c2/proto"]);
        var first = node.Open();
        Assert.True(first.Track(community));
        Assert.Equal(2, first.CommunityIndexes.Count);
        Assert.All(first.CommunityIndexes, i => Assert.False(i.Loaded));
        node.Store.Store.Ingest(Messages(rng, 400, "b"));

        node.Store.Reopen(); // saves 2 per-topic and 2 community files
        Assert.Equal(4, System.IO.Directory.GetFiles(node.Directory, "*" + SyncIndexFile.Extension).Length);
        var second = node.Open();
        Assert.True(second.Track(community));
        Assert.Equal(4, second.LoadedCount);
        AssertExact(second, node.Store.Store, rng);
        var more = Messages(rng, 600, "c"); // live after loading
        node.Store.Store.Ingest(more);
        node.Store.Store.Delete(more.Take(150).Select(m => MessageHash.Compute(m.PubsubTopic, m.Message)).ToList());
        AssertExact(second, node.Store.Store, rng);

        // Written after the save without a new one (a kill): rebuilt, and exact.
        node.Store.Reopen();
        node.Store.Store.Ingest(Messages(rng, 100, "d"));
        node.Store.Reopen();
        var third = node.Open();
        Assert.True(third.Track(community));
        Assert.Equal(0, third.LoadedCount);
        Assert.All(third.CommunityIndexes, i => Assert.Contains("written since", i.NotLoadedReason));
        AssertExact(third, node.Store.Store, rng);

        // A run that no longer tracks the community removes its files at the save: the folder holds one file per live index.
        node.Store.Reopen();
        node.Open();
        node.Store.Reopen();
        Assert.Equal(2, System.IO.Directory.GetFiles(node.Directory, "*" + SyncIndexFile.Extension).Length);
    }
}
