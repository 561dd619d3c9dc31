using FsCheck;
using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Testing;
using StoreSync.Testing.Storage;

namespace StoreSync.Storage.Tests;

/// <summary>Random sequences of ingests (with duplicates), deletes, range deletes and reopenings keep the statistics equal to a naive model.</summary>
public class CounterModelProperties
{
    static readonly string[] Pubsubs = ["/waku/2/rs/1/0", "/waku/2/rs/1/1"];
    static readonly string[] Contents = ["/app/1/a/proto", "/app/1/b/proto", "/app/1/c/proto"];

    sealed record Row(string Pubsub, WakuMessage Message, MessageHash Hash, long Bytes);

    static string Render(IEnumerable<Row> rows)
    {
        var lines = rows.GroupBy(r => r.Pubsub).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
            $"{g.Key}={g.Count()}/{g.Sum(r => r.Bytes)}/{g.Min(r => r.Message.Timestamp)}/{g.Max(r => r.Message.Timestamp)}[" +
            string.Join(",", g.GroupBy(r => r.Message.ContentTopic).OrderBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => $"{c.Key}={c.Count()}/{c.Sum(r => r.Bytes)}/{c.Min(r => r.Message.Timestamp)}/{c.Max(r => r.Message.Timestamp)}")) + "]");
        return string.Join(";", lines);
    }

    static string Render(StoreStatistics s) => string.Join(";", s.PubsubTopics.Where(p => p.Messages > 0).Select(p =>
        $"{p.PubsubTopic}={p.Messages}/{p.Bytes}/{p.Oldest}/{p.Newest}[" +
        string.Join(",", p.ContentTopics.Where(c => c.Messages > 0).Select(c => $"{c.ContentTopic}={c.Messages}/{c.Bytes}/{c.Oldest}/{c.Newest}")) + "]"));

    [Property(MaxTest = 40, Arbitrary = [typeof(ChoiceTapes)])]
    public void Statistics_equal_the_model_after_every_operation(ChoiceTape random)
    {
        using var t = new TempStore();
        var model = new Dictionary<MessageHash, Row>();
        var offered = new List<Row>();
        for (int step = 0; step < 25; step++)
        {
            switch (random.Next(10))
            {
                case < 5: // ingest, a third of it re-sent
                    var batch = new List<Row>();
                    for (int i = random.Next(0, 30); i > 0; i--)
                    {
                        if (offered.Count > 0 && random.Next(3) == 0) { batch.Add(offered[random.Next(offered.Count)]); continue; }
                        var pubsub = Pubsubs[random.Next(Pubsubs.Length)];
                        var m = TempStore.Message(Contents[random.Next(Contents.Length)], random.Next(-20, 60) * 10L, new string('p', random.Next(0, 40)) + random.Next());
                        var row = new Row(pubsub, m, MessageHash.Compute(pubsub, m), m.CalculateSize());
                        batch.Add(row);
                        offered.Add(row);
                    }
                    var result = t.Store.Ingest(batch.Select(r => new IngestItem(r.Pubsub, r.Message)).ToList());
                    int fresh = 0;
                    foreach (var r in batch) if (model.TryAdd(r.Hash, r)) fresh++;
                    Assert.Equal(fresh, result.Inserted);
                    Assert.Equal(batch.Count - fresh, result.Duplicates);
                    break;
                case < 7: // delete some hashes, known and unknown
                    var victims = offered.Count == 0 ? [] : Enumerable.Range(0, random.Next(1, 8)).Select(_ => offered[random.Next(offered.Count)].Hash).ToList();
                    victims.Add(MessageHash.Max);
                    int expected = victims.Distinct().Count(model.ContainsKey);
                    Assert.Equal(expected, t.Store.Delete(victims));
                    foreach (var h in victims) model.Remove(h);
                    break;
                case < 9: // range delete, one content topic or all
                    string ps = Pubsubs[random.Next(Pubsubs.Length)];
                    string? ct = random.Next(2) == 0 ? null : Contents[random.Next(Contents.Length)];
                    long from = random.Next(-25, 65) * 10L, to = from + random.Next(-10, 300);
                    var doomed = model.Values.Where(r => r.Pubsub == ps && (ct is null || r.Message.ContentTopic == ct) && r.Message.Timestamp >= from && r.Message.Timestamp <= to).ToList();
                    Assert.Equal(doomed.Count, t.Store.DeleteRange(ps, ct, from, to));
                    foreach (var r in doomed) model.Remove(r.Hash);
                    break;
                default:
                    t.Reopen();
                    break;
            }
            var stats = t.Store.GetStatistics();
            Assert.Equal(Render(model.Values), Render(stats));
            Assert.Equal(model.Count, stats.Messages);
            Assert.Equal(model.Values.Sum(r => r.Bytes), stats.Bytes);
        }
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }
}
