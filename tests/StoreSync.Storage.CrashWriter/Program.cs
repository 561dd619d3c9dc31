using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Storage.Retention;

namespace StoreSync.Storage.CrashWriter;

/// <summary>
/// Writes to the store in <c>args[0]</c> until killed. Each round ingests 20 new messages plus up to 4 re-sent ones
/// (duplicates) and, every fourth round, deletes 5 of the round's own new messages; once both writes returned it prints one
/// line: <c>+ inserted-hash… - deleted-hash…</c>. A round only deletes its own messages and re-sends only messages never
/// deleted, so whatever rounds run after the last printed line cannot remove or revive what the printed lines report.
/// With <c>evict STORE_FOLDER</c> it runs <see cref="EvictLoop"/> instead.
/// </summary>
public static class Program
{
    static readonly string[] Pubsubs = ["/waku/2/rs/1/0", "/waku/2/rs/1/1"];
    static readonly string[] Contents = ["/crash/1/a/proto", "/crash/1/b/proto", "/crash/1/c/proto"];

    public static int Main(string[] args)
    {
        if (args is ["evict", var folder]) return EvictLoop(folder);
        if (args.Length != 1) { Console.Error.WriteLine("usage: StoreSync.Storage.CrashWriter [evict] STORE_FOLDER"); return 2; }
        var options = new MessageStoreOptions { SyncWrites = Environment.GetEnvironmentVariable("STORESYNC_SYNC_WRITES") == "1" };
        using var store = MessageStore.Open(args[0], options);
        var random = new Random(7);
        var kept = new List<IngestItem>();
        var stdout = Console.Out;
        for (long round = 0; ; round++)
        {
            var batch = new List<IngestItem>(24);
            for (int i = 0; i < 20; i++)
            {
                var message = new WakuMessage
                {
                    Payload = ByteString.CopyFromUtf8($"crash-{round}-{i}-{random.Next()}"),
                    ContentTopic = Contents[random.Next(Contents.Length)],
                    Timestamp = 1_700_000_000_000_000_000L + random.Next(0, 1_000_000) * 1000L,
                };
                batch.Add(new IngestItem(Pubsubs[random.Next(Pubsubs.Length)], message));
            }
            for (int i = 0; i < 4 && kept.Count > 0; i++) batch.Add(kept[random.Next(kept.Count)]);
            var result = store.Ingest(batch);
            if (result.Inserted != 20) throw new InvalidOperationException($"round {round} inserted {result.Inserted} of 20 new messages");

            var victims = new List<MessageHash>();
            if (round % 4 == 3)
            {
                foreach (int i in Enumerable.Range(0, 20).OrderBy(_ => random.Next()).Take(5))
                    victims.Add(MessageHash.Compute(batch[i].PubsubTopic, batch[i].Message));
                int deleted = store.Delete(victims);
                if (deleted != victims.Count) throw new InvalidOperationException($"round {round} deleted {deleted} of {victims.Count} messages");
            }
            foreach (var item in batch.GetRange(0, 20))
                if (!victims.Contains(MessageHash.Compute(item.PubsubTopic, item.Message))) kept.Add(item);
            stdout.WriteLine("+ " + string.Join(' ', result.InsertedHashes) + " - " + string.Join(' ', victims));
            stdout.Flush();
        }
    }

    /// <summary>Retention scopes of the eviction mode: everything on one pubsub topic each.</summary>
    public static readonly RetentionConfiguration EvictConfiguration = new(
    [
        new ScopeRetention(RetentionScope.Of("a", [Pubsubs[0]], []), [new CountRetentionPolicy(300)]),
        new ScopeRetention(RetentionScope.Of("b", [Pubsubs[1]], []), [new SizeRetentionPolicy(30_000)]),
    ]);

    /// <summary>
    /// Until killed: ingest 100 new messages (some older than the horizons, which are refused), print
    /// <c>+ scope:timestamp:hash…</c> of the stored ones, then evict in chunks of 7, printing after every committed chunk
    /// <c>c a=timestamp:hash b=…</c> (the horizons then). Every round leaves work for the next, so a kill lands mid-eviction.
    /// </summary>
    static int EvictLoop(string folder)
    {
        using var store = MessageStore.Open(folder);
        var evictor = new Evictor(store, EvictConfiguration, new EvictorOptions { ChunkMessages = 7 });
        var random = new Random(11);
        var stdout = Console.Out;
        var progress = new ChunkPrinter(() =>
        {
            stdout.WriteLine("c " + string.Join(' ', store.GetRetentionHorizons().OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}={h.Value.Timestamp}:{h.Value.Hash}")));
            stdout.Flush();
        });
        for (long round = 0; ; round++)
        {
            var batch = new List<IngestItem>(100);
            for (int i = 0; i < 100; i++)
            {
                long ts = 1_700_000_000_000_000_000L + (random.Next(10) == 0 ? random.Next(0, 1_000) : round * 1_000 + random.Next(0, 5_000));
                batch.Add(new IngestItem(Pubsubs[random.Next(Pubsubs.Length)], new WakuMessage
                {
                    Payload = ByteString.CopyFromUtf8($"evict-{round}-{i}-{new string('x', random.Next(0, 200))}"),
                    ContentTopic = Contents[random.Next(Contents.Length)],
                    Timestamp = ts,
                }));
            }
            var stored = store.Ingest(batch).InsertedHashes.ToHashSet();
            stdout.WriteLine("+ " + string.Join(' ', batch.Select(b => (b, MessageHash.Compute(b.PubsubTopic, b.Message))).Where(x => stored.Contains(x.Item2))
                .Select(x => $"{(x.b.PubsubTopic == Pubsubs[0] ? 'a' : 'b')}:{x.b.Message.Timestamp}:{x.Item2}")));
            stdout.Flush();
            evictor.Evict(progress);
        }
    }

    sealed class ChunkPrinter(Action print) : IProgress<EvictionProgress>
    {
        public void Report(EvictionProgress value) => print();
    }
}
