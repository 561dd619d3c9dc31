using FsCheck;
using FsCheck.Xunit;
using StoreSync.Core;
using StoreSync.Storage.Retention;
using StoreSync.Testing;
using StoreSync.Testing.Storage;
using Row = StoreSync.Storage.Tests.RetentionModel.Row;

namespace StoreSync.Storage.Tests;

/// <summary>
/// Random ingests (re-sent, out of order, below horizons), configurations (limits, priorities, global limit, time), evictions
/// in random chunk sizes, scope deletions, clock steps and reopenings: the store keeps exactly the model's messages and
/// horizons, refuses what the model refuses, and passes the integrity check after every eviction.
/// </summary>
public class EvictorModelProperties
{
    const string P0 = "/waku/2/rs/1/0", P1 = "/waku/2/rs/1/1";
    static readonly (string, string)[] Pairs =
        [(P0, "/a/1/x/proto"), (P0, "/a/1/y/proto"), (P1, "/a/1/x/proto"), (P0, "/b/1/x/proto"), (P1, "/b/1/x/proto"), (P1, "/c/1/x/proto"), (P0, "/z/1/unscoped/proto")];

    static readonly RetentionScope[] Scopes =
    [
        new("a", [new ScopeTopics(P0, ["/a/1/x/proto", "/a/1/y/proto"]), new ScopeTopics(P1, ["/a/1/x/proto"])]),
        RetentionScope.Of("b", [P0], ["/b/1/x/proto"]),
        RetentionScope.Of("c", [P1], ["/b/1/x/proto", "/c/1/x/proto"]),
    ];

    static RetentionConfiguration RandomConfiguration(ChoiceTape r)
    {
        var scopes = new List<ScopeRetention>();
        foreach (var scope in Scopes)
        {
            if (r.Next(4) == 0) continue;
            var policies = new List<RetentionPolicy>();
            if (r.Next(2) == 0) policies.Add(new SizeRetentionPolicy(r.Next(0, 1_500)));
            if (r.Next(3) == 0) policies.Add(new CountRetentionPolicy(r.Next(0, 40)));
            if (r.Next(4) == 0) policies.Add(new TimeRetentionPolicy(TimeSpan.FromTicks(r.Next(0, 20))));
            scopes.Add(new ScopeRetention(scope, policies, r.Next(3)));
        }
        return new RetentionConfiguration(scopes, r.Next(3) == 0 ? r.Next(0, 3_000) : null);
    }

    static string Render(IEnumerable<KeyValuePair<string, (long Timestamp, MessageHash Hash, RetentionLimits Limits)>> horizons) =>
        string.Join(";", horizons.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}@{h.Value.Timestamp}/{h.Value.Hash}/{h.Value.Limits}"));

    [Property(MaxTest = 40, Arbitrary = [typeof(ChoiceTapes)])]
    public void The_store_keeps_what_the_naive_model_keeps(ChoiceTape r)
    {
        using var t = new TempStore();
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddTicks(r.Next(0, 30)));
        int chunk = r.Next(1, 12);
        Evictor Open() => new(t.Store, null, new EvictorOptions { ChunkMessages = chunk, TimeProvider = clock });
        var evictor = Open();
        var model = new RetentionModel { Now = clock.Now };
        var offered = new List<Row>();

        void Check()
        {
            Assert.Equal(model.Rows.Keys.Order(), offered.Select(o => o.Hash).Distinct().Where(t.Store.Contains).Order());
            Assert.Equal(model.Rows.Count, t.Store.GetStatistics().Messages);
            Assert.Equal(Render(model.Horizons), Render(t.Store.GetRetentionHorizons().Select(h => KeyValuePair.Create(h.Key, (h.Value.Timestamp, h.Value.Hash, h.Value.Limits)))));
        }

        for (int step = 0; step < 30; step++)
        {
            switch (r.Next(12))
            {
                case < 4: // ingest; some re-sent, some far older than anything
                    var batch = new List<Row>();
                    for (int i = r.Next(0, 25); i > 0; i--)
                    {
                        if (offered.Count > 0 && r.Next(4) == 0) { batch.Add(offered[r.Next(offered.Count)]); continue; }
                        var (p, c) = Pairs[r.Next(Pairs.Length)];
                        var row = RetentionModel.RowOf(p, TempStore.Message(c, r.Next(-20, 300) * 10L, new string('p', r.Next(0, 60)) + r.Next()));
                        batch.Add(row);
                        offered.Add(row);
                    }
                    var result = t.Store.Ingest(batch.Select(x => new IngestItem(x.Pubsub, x.Message)).ToList());
                    Assert.Equal(model.Ingest(batch), (result.Inserted, result.Duplicates, result.Refused));
                    break;
                case < 6:
                    var configuration = RandomConfiguration(r);
                    Assert.Equal(model.Configure(configuration), evictor.Configure(configuration));
                    break;
                case < 9:
                    evictor.Evict();
                    model.Evict();
                    Assert.Empty(StoreIntegrity.Check(t.Store));
                    break;
                case 9:
                    var scope = Scopes[r.Next(Scopes.Length)];
                    evictor.DeleteScope(scope);
                    model.DeleteScope(scope);
                    break;
                case 10:
                    clock.Now = clock.Now.AddTicks(r.Next(0, 10));
                    model.Now = clock.Now;
                    break;
                default:
                    var kept = evictor.Configuration;
                    t.Reopen();
                    evictor = Open();
                    Assert.Equal(model.Configure(kept), evictor.Configure(kept));
                    break;
            }
            Check();
        }
        evictor.Evict();
        model.Evict();
        Check();
        Assert.Empty(StoreIntegrity.Check(t.Store));
    }
}
