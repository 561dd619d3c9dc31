using System.Xml.Linq;
using StoreSync.Simulations.Output;
using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations.Tests;

public class SimulationTests
{
    static Scenario One(string json, params string[] overrides) => ScenarioLoader.Load(json, "test.json", overrides).Single();

    [Fact]
    public void A_small_scenario_is_byte_identical_for_a_seed()
    {
        var first = Runner.RunInMemory(One(ScenarioTexts.Small));
        var second = Runner.RunInMemory(One(ScenarioTexts.Small));
        Assert.Equal(first.Series, second.Series);
        Assert.Equal(first.Nodes, second.Nodes);
        Assert.StartsWith(CsvSink.SeriesHeader + "\n", first.Series);
        Assert.Equal(30, first.Series.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // header + samples at 0, 30 min, …, 14 h
        // Something happened: messages were published, lost on ingest, and repaired by sync.
        Assert.True(first.Result.Published > 500);
        Assert.True(first.Result.LostOnIngest > 0);
        Assert.True(first.Result.DeliveredBySync > 0);
        Assert.Equal(0, first.Result.SessionErrors);

        var other = Runner.RunInMemory(One(ScenarioTexts.Small, "seed=8"));
        Assert.NotEqual(first.Series, other.Series);
    }

    [Fact]
    public void Full_connectivity_reaches_complete_convergence()
    {
        var (r, _, _) = Runner.RunInMemory(One(ScenarioTexts.FullyConnected));
        Assert.Equal(600, r.Published);
        Assert.Equal(0, r.Unrecoverable);
        Assert.True(r.LostOnIngest > 300, $"lost {r.LostOnIngest}"); // ≈ 10 % of 8 × 600
        Assert.Equal(r.LostOnIngest, r.DeliveredBySync); // every loss repaired once (duplicate transfers are not deliveries)
        Assert.NotNull(r.TimeTo100);
        Assert.True(r.TimeTo100 <= 5L * 60_000_000_000, $"took {r.TimeTo100}"); // ≤ lag + 2 intervals after the last message
        Assert.Equal(1.0, r.FinalCompleteFraction);
        Assert.Equal(1.0, r.ReachedAllFraction);
        Assert.All(r.Series.Where(s => s.Time >= r.PublishEnd + r.TimeTo100), s => Assert.Equal(0, s.MissingMax));
    }

    [Fact]
    public void The_nwaku_protocol_converges_too()
    {
        var (r, _, _) = Runner.RunInMemory(One(ScenarioTexts.FullyConnected, "sync.protocol=nwaku"));
        Assert.Equal(1.0, r.FinalCompleteFraction);
        Assert.Equal(0, r.SessionErrors);
        Assert.True(r.DeliveredBySync >= r.LostOnIngest);
    }

    [Fact]
    public void Rocksdb_storage_gives_the_same_results_as_memory()
    {
        string[] small = ["duration=\"3h\"", "nodeGroups[0].count=4", "communities[0].rate=\"60/h\""];
        var memory = Runner.RunInMemory(One(ScenarioTexts.Small, small));
        var rocks = Runner.RunInMemory(One(ScenarioTexts.Small, [.. small, "storage=rocksdb"]));
        Assert.True(memory.Result.DeliveredBySync > 10);
        Assert.Equal(memory.Series, rocks.Series);
        Assert.Equal(memory.Nodes, rocks.Nodes);
    }

    [Fact]
    public void Without_sync_offline_nodes_never_catch_up()
    {
        var (r, _, _) = Runner.RunInMemory(One(ScenarioTexts.Small, "sync.peers=0"));
        Assert.Equal(0, r.DeliveredBySync);
        Assert.Equal(0, r.SyncBytes);
        Assert.Null(r.TimeTo99);
        Assert.True(r.FinalCompleteFraction < 0.5);
    }

    [Fact]
    public void Retention_limits_hold()
    {
        var (r, _, nodes) = Runner.RunInMemory(One(ScenarioTexts.FullyConnected, "retention.maxMessages=200", "duration=\"150m\""));
        var rows = nodes.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')).ToList();
        int held = Array.IndexOf(CsvSink.NodesHeader.Split(','), "held");
        Assert.All(rows, row => Assert.True(long.Parse(row[held]) <= 200));
        Assert.Equal(1.0, r.FinalCompleteFraction); // complete = the newest 200 recoverable messages

        var (aged, _, agedNodes) = Runner.RunInMemory(One(ScenarioTexts.FullyConnected, "retention.maxAge=\"30m\""));
        var last = agedNodes.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Split(',');
        Assert.Equal("0", last[held]); // publishing stopped 1 h before the end: everything aged out
        Assert.True(aged.Published == 600);
    }

    [Fact]
    public void Outputs_are_written_and_the_svg_is_well_formed()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"sim-test-{Guid.NewGuid():N}");
        try
        {
            var scenarios = ScenarioLoader.Load(ScenarioTexts.FullyConnected, "test.json", ["sweep={\"sync.peers\": [1, 2]}"]);
            Assert.Equal(2, scenarios.Count);
            var results = Runner.RunAll(scenarios, folder, "peers", progress: false, TextWriter.Null);
            foreach (var name in new[] { "connected_peers=1", "connected_peers=2" })
            {
                foreach (var file in new[] { "timeseries.csv", "nodes.csv", "convergence.svg", "summary.md", "summary.csv", "scenario.resolved.json" })
                    Assert.True(File.Exists(Path.Combine(folder, name, file)), $"{name}/{file}");
                XDocument.Load(Path.Combine(folder, name, "convergence.svg"));
            }
            XDocument.Load(Path.Combine(folder, "comparison.svg"));
            XDocument.Load(Path.Combine(folder, "tradeoff.svg"));
            Assert.Contains("connected_peers=2", File.ReadAllText(Path.Combine(folder, "summary.md")));
            Assert.Equal(3, File.ReadAllLines(Path.Combine(folder, "summary.csv")).Length);
            Assert.True(results[1].SyncBytes > 0);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Syncing_with_peers_at_once_transfers_the_same_messages_twice()
    {
        var oneByOne = Runner.RunInMemory(One(ScenarioTexts.Small)).Result;
        var atOnce = Runner.RunInMemory(One(ScenarioTexts.Small, "sync.parallel=true")).Result;
        Assert.True(atOnce.DuplicateTransfers > 2 * oneByOne.DuplicateTransfers, $"{atOnce.DuplicateTransfers} vs {oneByOne.DuplicateTransfers}");
        Assert.True(atOnce.TransferBytes > oneByOne.TransferBytes);
        Assert.Equal(1.0, oneByOne.FinalCompleteFraction);
        Assert.Equal(1.0, atOnce.FinalCompleteFraction);
    }
}
