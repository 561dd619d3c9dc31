using RocksDbSharp;
using StoreSync.Core;
using StoreSync.Storage.Query;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>Damaged data gives a clear error for what touches it, never a crash, and loses nothing else.</summary>
public class CorruptionTests
{
    const string Pubsub = "/waku/2/rs/1/0";

    /// <summary>Writes raw bytes into one column family of a closed store.</summary>
    static void Tamper(string path, string family, Action<RocksDb, ColumnFamilyHandle> change)
    {
        var families = new ColumnFamilies();
        foreach (var name in RocksDb.ListColumnFamilies(new DbOptions(), path))
            if (name != "default") families.Add(name, new ColumnFamilyOptions());
        using var db = RocksDb.Open(new DbOptions(), path, families);
        change(db, db.GetColumnFamily(family));
    }

    [Fact]
    public void A_stored_value_that_does_not_decode_fails_only_the_queries_that_need_it()
    {
        var t = new TempStore();
        try
        {
            var messages = Enumerable.Range(0, 5).Select(i => TempStore.Message("/app/1/a/proto", 100 + i, $"m{i}")).ToList();
            t.Store.Ingest(messages.Select(m => new IngestItem(Pubsub, m)).ToList());
            t.Store.Dispose();
            byte[] damagedKey = [];
            Tamper(t.Path, "messages", (db, cf) =>
            {
                using var it = db.NewIterator(cf);
                it.SeekToFirst();
                damagedKey = it.Key();
                // Same length, so the byte counters stay right and only the decoding fails (0xff is no protobuf tag).
                db.Put(damagedKey, Enumerable.Repeat((byte)0xff, it.Value().Length).ToArray(), cf);
            });
            t.Reopen();
            var damaged = MessageHash.Read(damagedKey.AsSpan(16, 32));

            var engine = new StoreQueryEngine(t.Store);
            var query = new StoreQuery { RequestId = "c", PubsubTopic = Pubsub, ContentTopics = ["/app/1/a/proto"], Forward = true, IncludeData = true };
            using var result = engine.ExecuteWithMessages(query);
            Assert.Equal(StoreQueryErrorKind.DriverError, result.Error?.Kind);
            Assert.StartsWith("stored message " + damaged, result.Error!.Cause);
            Assert.Empty(result);
            using (var copied = engine.Execute(query)) // the path that copies stored forms unparsed checks them too
                Assert.Equal(result.Error, copied.Error);

            using (var hashesOnly = engine.Execute(query with { IncludeData = false }))
                Assert.Equal(5, hashesOnly.Count); // hashes only: the value is never read

            Assert.Throws<StoreCorruptionException>(() => t.Store.TryGet(damaged, out _));
            Assert.True(t.Store.TryGet(MessageHash.Compute(Pubsub, messages[4]), out var intact));
            Assert.Equal(messages[4], intact.Message);
            Assert.Contains(StoreIntegrity.Check(t.Store), p => p.Contains(damaged.ToString()));
            // Still writable, and the damaged message can be deleted like any other.
            Assert.Equal(1, t.Store.Delete([damaged]));
            Assert.Empty(StoreIntegrity.Check(t.Store));
        }
        finally { t.Dispose(); }
    }

    [Fact]
    public void An_index_entry_naming_an_unknown_topic_id_is_reported_not_crashed_on()
    {
        var t = new TempStore();
        try
        {
            var m = TempStore.Message("/app/1/a/proto", 100, "m");
            t.Store.Ingest([new(Pubsub, m)]);
            t.Store.Dispose();
            var hash = MessageHash.Compute(Pubsub, m);
            Tamper(t.Path, "hashes", (db, cf) => db.Put(hash.ToArray(), Convert.FromHexString("000000630000000180000000000000640000"[..32]), cf));
            t.Reopen();
            var e = Assert.Throws<StoreCorruptionException>(() => t.Store.TryGet(hash, out _));
            Assert.Contains(hash.ToString(), e.Message);
            var lookup = new StoreQuery { RequestId = "h", IncludeData = true, MessageHashes = [hash.ToArray()] };
            using var result = new StoreQueryEngine(t.Store).ExecuteWithMessages(lookup);
            Assert.NotNull(result.Error);
            Assert.Equal(StoreQueryErrorKind.DriverError, result.Error.Kind);
            Assert.NotEmpty(StoreIntegrity.Check(t.Store));
        }
        finally { t.Dispose(); }
    }
}
