using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Storage.Query;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

public class MessageStoreTests
{
    const string Pubsub = "/waku/2/rs/1/0";

    [Fact]
    public void Stores_gets_and_skips_duplicates()
    {
        using var t = new TempStore();
        var a = TempStore.Message("/app/1/a/proto", 10, "a");
        var b = TempStore.Message("/app/1/b/proto", 5, "b");
        var result = t.Store.Ingest([new(Pubsub, a), new(Pubsub, b), new(Pubsub, a)]);
        Assert.Equal(2, result.Inserted);
        Assert.Equal(1, result.Duplicates);
        Assert.Equal(0, t.Store.Ingest([new(Pubsub, b)]).Inserted);

        var hash = MessageHash.Compute(Pubsub, a);
        Assert.True(t.Store.TryGet(hash, out var stored));
        Assert.Equal(Pubsub, stored.PubsubTopic);
        Assert.Equal(a, stored.Message);
        Assert.False(t.Store.TryGet(MessageHash.Compute("/waku/2/rs/1/1", a), out _));
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public void The_same_message_on_two_pubsub_topics_is_two_messages()
    {
        using var t = new TempStore();
        var a = TempStore.Message("/app/1/a/proto", 10, "a");
        Assert.Equal(2, t.Store.Ingest([new(Pubsub, a), new("/waku/2/rs/1/1", a)]).Inserted);
        Assert.Equal(2, t.Store.GetStatistics().Messages);
    }

    [Fact]
    public void Stored_form_drops_the_rln_proof_and_ephemeral_flag_and_keeps_an_empty_payload()
    {
        using var t = new TempStore();
        var m = TempStore.Message("/app/1/a/proto", 10);
        m.RateLimitProof = ByteString.CopyFromUtf8("proof");
        m.Version = 1;
        m.Meta = ByteString.CopyFrom([1, 2]);
        t.Store.Ingest([new(Pubsub, m)]);
        Assert.True(t.Store.TryGet(MessageHash.Compute(Pubsub, m), out var stored));
        Assert.False(stored.Message.HasRateLimitProof);
        Assert.True(stored.Message.HasPayload);
        Assert.Equal(1u, stored.Message.Version);
        Assert.Equal(new byte[] { 0x0a, 0x00 }, stored.Message.ToByteArray()[..2]);
    }

    [Fact]
    public void Counters_follow_inserts_and_deletes_and_survive_reopening()
    {
        using var t = new TempStore();
        var messages = Enumerable.Range(0, 100).Select(i => TempStore.Message(i % 2 == 0 ? "/app/1/even/proto" : "/app/1/odd/proto", 1000 + i, new string('x', i))).ToList();
        t.Store.Ingest(messages.Select(m => new IngestItem(Pubsub, m)).ToList());
        long evenBytes = messages.Where((_, i) => i % 2 == 0).Sum(m => (long)m.CalculateSize());
        Assert.Equal(new TopicFigures(50, evenBytes), t.Store.GetFigures(Pubsub, "/app/1/even/proto"));

        Assert.Equal(10, t.Store.Delete(messages.Take(20).Where((_, i) => i % 2 == 0).Select(m => MessageHash.Compute(Pubsub, m)).Append(MessageHash.Max).ToList()));
        Assert.Equal(40, t.Store.GetFigures(Pubsub, "/app/1/even/proto").Messages);
        Assert.Equal(90, t.Store.GetFigures(Pubsub).Messages);

        t.Reopen();
        var stats = t.Store.GetStatistics();
        Assert.Equal(90, stats.Messages);
        var pubsub = Assert.Single(stats.PubsubTopics);
        Assert.Equal(1001, pubsub.Oldest);
        Assert.Equal(1099, pubsub.Newest);
        Assert.Equal(["/app/1/even/proto", "/app/1/odd/proto"], pubsub.ContentTopics.Select(c => c.ContentTopic));
        Assert.Equal(1020, pubsub.ContentTopics[0].Oldest);
        Assert.Empty(StoreIntegrity.Check(t.Store));
        // New topics after reopening get fresh ids and do not collide with the loaded dictionary.
        t.Store.Ingest([new("/waku/2/rs/1/7", TempStore.Message("/app/1/new/proto", 1))]);
        Assert.Equal(2, t.Store.GetStatistics().PubsubTopics.Count);
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public void Delete_range_removes_exactly_the_range_from_every_index()
    {
        using var t = new TempStore();
        var messages = Enumerable.Range(0, 25_000).Select(i => TempStore.Message(i % 3 == 0 ? "/app/1/a/proto" : "/app/1/b/proto", i / 2, $"m{i}")).ToList();
        foreach (var chunk in messages.Chunk(5000)) t.Store.Ingest(chunk.Select(m => new IngestItem(Pubsub, m)).ToList());
        int expectedA = messages.Count(m => m.ContentTopic == "/app/1/a/proto" && m.Timestamp is >= 100 and <= 200);
        Assert.Equal(expectedA, t.Store.DeleteRange(Pubsub, "/app/1/a/proto", 100, 200));
        int expectedAll = messages.Count(m => m.Timestamp is >= 1000 and <= 11000);
        Assert.Equal(expectedAll, t.Store.DeleteRange(Pubsub, null, 1000, 11000)); // more than one 10,000-row chunk
        Assert.Equal(0, t.Store.DeleteRange(Pubsub, null, 1000, 11000));
        Assert.Equal(0, t.Store.DeleteRange("/waku/2/unknown", null, 0, long.MaxValue));
        Assert.Equal(25_000 - expectedA - expectedAll, t.Store.GetStatistics().Messages);
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }

    [Fact]
    public void Observers_see_inserts_and_deletes_in_commit_order()
    {
        using var t = new TempStore();
        var observer = new RecordingObserver();
        t.Store.AddObserver(observer);
        var a = TempStore.Message("/app/1/a/proto", 7, "a");
        t.Store.Ingest([new(Pubsub, a), new(Pubsub, a)]);
        t.Store.Delete([MessageHash.Compute(Pubsub, a)]);
        Assert.Equal(["+/app/1/a/proto@7", "-/app/1/a/proto@7"], observer.Events);
    }

    [Fact]
    public void Negative_and_extreme_timestamps_keep_their_order()
    {
        using var t = new TempStore();
        long[] times = [long.MinValue, -5, 0, 5, long.MaxValue];
        t.Store.Ingest(times.Reverse().Select(ts => new IngestItem(Pubsub, TempStore.Message("/app/1/a/proto", ts))).ToList());
        using var page = new StoreQueryEngine(t.Store).ExecuteWithMessages(new() { RequestId = "x", PubsubTopic = Pubsub, Forward = true, IncludeData = true });
        Assert.Equal(times, page.Select(m => m.Message!.Timestamp));
    }

    [Fact]
    public void A_second_open_of_the_same_folder_fails_with_a_clear_error()
    {
        using var t = new TempStore();
        var e = Assert.Throws<IOException>(() => MessageStore.Open(t.Path));
        Assert.Contains("in use by another process", e.Message);
    }

    [Fact]
    public void A_folder_that_is_not_a_store_is_refused()
    {
        var dir = Directory.CreateTempSubdirectory("storesync-bad-").FullName;
        try
        {
            File.WriteAllText(System.IO.Path.Combine(dir, "CURRENT"), "garbage\n");
            Assert.Throws<IOException>(() => MessageStore.Open(dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    sealed class RecordingObserver : IMessageStoreObserver
    {
        public List<string> Events { get; } = [];
        public void OnInserted(IReadOnlyList<StoreChange> changes) => Events.AddRange(changes.Select(c => $"+{c.ContentTopic}@{c.Timestamp}"));
        public void OnDeleted(IReadOnlyList<StoreChange> changes) => Events.AddRange(changes.Select(c => $"-{c.ContentTopic}@{c.Timestamp}"));
    }
}

public class StoreKeyLayoutTests
{
    [Fact]
    public void The_byte_example_of_spec_storage_md_holds()
    {
        // RFC 14 test vector: its hash and the keys spec/storage.md prints for it with pubsub id 1 and content id 1.
        var hash = MessageHash.Compute("/waku/2/default-waku/proto", Convert.FromHexString("010203045445535405060708"),
            "/waku/2/default-content/proto", Convert.FromHexString("73757065722d736563726574"), 0x175789bfa23f8400);
        Assert.Equal("0x64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05", hash.ToString());
        Span<byte> key = stackalloc byte[StoreKeys.MessageKeyLength];
        StoreKeys.WriteMessageKey(key, 1, 1, 0x175789bfa23f8400, hash);
        Assert.Equal("0000000100000001975789bfa23f840064cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05", Convert.ToHexStringLower(key));
        Span<byte> time = stackalloc byte[StoreKeys.TimeKeyLength];
        StoreKeys.WriteTimeKey(time, 1, 0x175789bfa23f8400, hash);
        Assert.Equal("00000001975789bfa23f840064cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05", Convert.ToHexStringLower(time));
        Assert.Equal("7ffffffffffffffb", StoreKeys.EncodeTimestamp(-5).ToString("x16"));
        Assert.Equal("8000000000000000", StoreKeys.EncodeTimestamp(0).ToString("x16"));
    }
}
