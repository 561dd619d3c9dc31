using System.Xml.Linq;
using StoreSync.Simulations.RealNodes;
using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations.Tests;

/// <summary>The real-nodes mode: a scenario replayed with real <c>storesync node</c> processes on 127.0.0.1.</summary>
public class RealNodesTests
{
    static Scenario One(string json, params string[] overrides) => ScenarioLoader.Load(json, "test.json", overrides).Single();

    [Fact]
    public async Task Real_nodes_replay_the_schedule_and_converge_by_their_own_sync()
    {
        var scenario = One(ScenarioTexts.RealNodes);
        string folder = Directory.CreateTempSubdirectory("storesync-real-test-").FullName;
        try
        {
            // Bounded: 40 s of schedule plus start-ups; a loaded machine may start nodes slowly, never for minutes.
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            var options = new RealRunOptions { Speedup = 150, NodeDll = Path.Combine(AppContext.BaseDirectory, "storesync.dll") };
            var log = new StringWriter();
            var (sim, real) = await Runner.RunRealAsync(scenario, folder, options, log, timeout.Token);

            // The same schedule: the same messages published, and each pushed to exactly the nodes that stored it live in the simulation.
            Assert.Equal(200, real.Published);
            Assert.Equal(sim.Recoverable, real.Recoverable);
            Assert.Equal(sim.ReceivedLive, real.ReceivedLive);
            Assert.Contains("(0 failed)", log.ToString());
            // The nodes synced by themselves and the three always-online ones ended with the whole history (hash-checked in the run).
            Assert.True(real.Sessions > 0 && real.DeliveredBySync > 0, log.ToString());
            Assert.True(real.Series[^1].Complete >= 3, $"complete at the end: {real.Series[^1].Complete}\n{log}");
            Assert.True(real.SyncBytes > 0);

            // The visitor was started and stopped as scheduled.
            var visitor = File.ReadAllLines(Path.Combine(folder, "real-test-real", "nodes.csv")).Skip(1).Select(l => l.Split(',')).Where(f => f[1] == "3").ToList();
            Assert.Contains(visitor, f => f[2] == "1");
            Assert.Contains(visitor, f => f[2] == "0");

            foreach (var file in new[] { "summary.md", "summary.csv", "comparison.svg", "real-test/timeseries.csv", "real-test-real/timeseries.csv", "real-test-real/convergence.svg" })
                Assert.True(File.Exists(Path.Combine(folder, file)), file);
            XDocument.Load(Path.Combine(folder, "comparison.svg"));
            Assert.Contains("real-test-real", File.ReadAllText(Path.Combine(folder, "summary.md")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("nodeGroups[0].count=11", "nodes: 12 nodes")]
    [InlineData("nodeGroups[0].sync.protocol=nwaku", "sync.protocol")]
    [InlineData("retention.maxMessages=10", "retention")]
    [InlineData("sync.knownPeers=3", "knownPeers")]
    [InlineData("sync.interval=\"1s\"", "sync.interval")]
    [InlineData("duration=\"10d\"", "duration")]
    public void Scenarios_real_nodes_cannot_play_are_refused_with_the_reason(string overrideText, string reason)
    {
        var errors = RealNodeRun.Check(One(ScenarioTexts.RealNodes, overrideText), 150);
        Assert.Contains(errors, e => e.Contains(reason, StringComparison.Ordinal));
        Assert.Empty(RealNodeRun.Check(One(ScenarioTexts.RealNodes), 150));
    }

    [Fact]
    public void Prometheus_counters_are_read_by_name_and_label()
    {
        const string text = """
            # TYPE storesync_sync_bytes_total counter
            storesync_sync_bytes_total{direction="out",protocol="reconciliation"} 1200 1700000000000
            storesync_sync_bytes_total{direction="in",protocol="reconciliation"} 999
            storesync_sync_bytes_total{direction="out",protocol="transfer"} 5000
            storesync_sync_sessions_total{mode="native",outcome="completed",role="initiator"} 7
            storesync_sync_sessions_total{mode="native",outcome="completed",role="responder"} 6
            storesync_sync_round_trips_sum{mode="native"} 26
            storesync_sync_round_trips_count{mode="native"} 13
            storesync_sync_items_fetched_total 40
            storesync_sync_items_sent_total 44
            storesync_sync_session_duration_sum{mode="native"} 0.5
            """;
        Assert.Equal(new SyncCounters(1200, 5000, 7, 26, 40, 44), SyncCounters.Parse(text));
    }
}
