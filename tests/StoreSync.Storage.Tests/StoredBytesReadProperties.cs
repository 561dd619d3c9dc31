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

    [Property(MaxTest = 40, Arbitrary = [typeof(ChoiceTapes)])]
    public void Any_order_of_stored_unknown_and_deleted_hashes_reads_the_stored_bytes_of_each(ChoiceTape r)
    {
        using var t = new TempStore();
        var rows = Enumerable.Range(0, r.Next(0, 300)).Select(i =>
        {
            var pubsub = Pubsubs[r.Next(Pubsubs.Length)];
            var m = TempStore.Message(Contents[r.Next(Contents.Length)], r.Next(0, 40) * 100L, $"s{i}-{r.Next()}");
            return (Pubsub: pubsub, Item: new SyncItem(m.Timestamp, MessageHash.Compute(pubsub, m)), Message: m);
        }).ToList();
        t.Store.Ingest(rows.Select(x => new IngestItem(x.Pubsub, x.Message)).ToList());
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
}
