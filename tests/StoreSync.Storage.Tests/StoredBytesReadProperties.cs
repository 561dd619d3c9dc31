using FsCheck;
using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Testing;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>Reading stored bytes by hash (what a transfer sends) answers as one hash lookup per message would, in any order.</summary>
public class StoredBytesReadProperties
{
    static readonly string[] Pubsubs = ["/waku/2/rs/1/0", "/waku/2/rs/1/1"];
    static readonly string[] Contents = ["/app/1/a/proto", "/app/1/b/proto", "/app/1/c/proto"];

    /// <summary>Up to 300 messages on random pubsub and content topics at random timestamps (ties included), ingested.</summary>
    static List<(string Pubsub, SyncItem Item, StoreSync.Core.Proto.WakuMessage Message)> IngestRandom(TempStore t, ChoiceTape r, string[] contents, int times)
    {
        var rows = Enumerable.Range(0, r.Next(0, 300)).Select(i =>
        {
            var pubsub = Pubsubs[r.Next(Pubsubs.Length)];
            var m = TempStore.Message(contents[r.Next(contents.Length)], r.Next(0, times) * 100L, $"s{i}-{r.Next()}");
            return (Pubsub: pubsub, Item: new SyncItem(m.Timestamp, MessageHash.Compute(pubsub, m)), Message: m);
        }).ToList();
        t.Store.Ingest(rows.Select(x => new IngestItem(x.Pubsub, x.Message)).ToList());
        return rows;
    }

    [Property(MaxTest = 40, Arbitrary = [typeof(ChoiceTapes)])]
    public void Any_order_of_stored_unknown_and_deleted_hashes_reads_the_stored_bytes_of_each(ChoiceTape r)
    {
        using var t = new TempStore();
        var rows = IngestRandom(t, r, Contents, times: 40);
        var deleted = rows.Where(_ => r.Next(8) == 0).ToList();
        t.Store.Delete(deleted.Select(x => x.Item.Hash).ToList());

        // Newest first (as a transfer asks), with unknown hashes, a content topic or pubsub topic left out, or shuffled.
        var asked = rows.Where(_ => r.Next(4) != 0).Select(x => x.Item).ToList();
        int order = r.Next(4);
        if (order < 3) asked = asked.OrderDescending().ToList();
        else asked = asked.OrderBy(_ => r.Next()).ToList();
        if (order == 1) asked = asked.Where(i => rows.First(x => x.Item == i).Message.ContentTopic != Contents[0]).ToList();
        if (order == 2) asked.Insert(r.Next(asked.Count + 1), new SyncItem(500, MessageHash.Compute("/x", TempStore.Message(Contents[0], 500, "unknown"))));
        var hashes = asked.Select(i => i.Hash).ToArray();

        var read = t.Store.GetStoredBytes(hashes);
        Assert.Equal(hashes.Length, read.Length);
        for (int i = 0; i < hashes.Length; i++)
        {
            var row = rows.FirstOrDefault(x => x.Item.Hash == hashes[i]);
            bool stored = row.Message is not null && !deleted.Any(d => d.Item.Hash == hashes[i]);
            if (!stored) { Assert.Null(read[i]); continue; }
            var got = read[i]!;
            Assert.Equal(hashes[i], got.Hash);
            Assert.Equal(row.Pubsub, got.PubsubTopic);
            Assert.Equal(row.Message!.ContentTopic, got.ContentTopic);
            Assert.Equal(row.Message.Timestamp, got.Timestamp);
            Assert.True(t.Store.TryGet(hashes[i], out var one));
            Assert.Equal(one.Message, StoreSync.Core.Proto.WakuMessage.Parser.ParseFrom(got.Message).WithPayloadPresent());
        }
    }

    /// <summary>The reader a transfer frames from: many content topics interleaved (more than it walks at once), each hash read
    /// as often as a caller asks it in a row (a frame that did not fit the write), the bytes are those of the hash lookup.</summary>
    [Property(MaxTest = 40, Arbitrary = [typeof(ChoiceTapes)])]
    public void The_reader_without_copies_gives_the_stored_bytes_of_each_hash_with_many_scopes_and_repeated_asks(ChoiceTape r)
    {
        using var t = new TempStore();
        var contents = Enumerable.Range(0, r.Next(1, StoredBytesReader.MaxCursors + 4)).Select(i => $"/app/1/t{i}/proto").ToArray();
        var rows = IngestRandom(t, r, contents, times: 60);
        var deleted = rows.Where(_ => r.Next(10) == 0).Select(x => x.Item.Hash).ToHashSet();
        t.Store.Delete(deleted.ToList());
        var asked = rows.Select(x => x.Item).Where(_ => r.Next(5) != 0).ToList();
        asked = r.Next(3) == 0 ? asked.OrderBy(_ => r.Next()).ToList() : asked.OrderDescending().ToList();

        using var reader = t.Store.ReadStoredBytes();
        foreach (var item in asked)
            for (int again = r.Next(3) == 0 ? 2 : 1; again > 0; again--)
            {
                bool stored = !deleted.Contains(item.Hash);
                Assert.Equal(stored, reader.TryRead(item.Hash));
                if (!stored) continue;
                var row = rows.First(x => x.Item.Hash == item.Hash);
                Assert.Equal(row.Pubsub, reader.PubsubTopic);
                Assert.Equal(row.Message.ContentTopic, reader.ContentTopic);
                Assert.Equal(row.Message.Timestamp, reader.Timestamp);
                Assert.True(t.Store.TryGet(item.Hash, out var one));
                Assert.Equal(one.Message, StoreSync.Core.Proto.WakuMessage.Parser.ParseFrom(reader.Message.ToArray()).WithPayloadPresent());
            }
    }
}
