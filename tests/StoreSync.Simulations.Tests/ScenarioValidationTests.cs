using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations.Tests;

/// <summary>Bad scenario files fail before anything runs, with an error that names the field.</summary>
public class ScenarioValidationTests
{
    const string Base = """
    {
      "name": "t",
      "duration": "1d",
      "communities": [ { "name": "chat", "rate": "60/h" } ],
      "nodeGroups": [ { "name": "g", "count": 3 } ]
    }
    """;

    static ScenarioException Fails(params string[] overrides) =>
        Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(Base, "bad.json", overrides));

    static void FailsWith(string field, string text, params string[] overrides)
    {
        var e = Fails(overrides);
        Assert.Contains(e.Problems, p => p.StartsWith(field + ":", StringComparison.Ordinal) && p.Contains(text, StringComparison.Ordinal));
        Assert.Contains("bad.json", e.Message);
    }

    [Fact]
    public void The_base_scenario_is_valid_and_gets_the_defaults()
    {
        var s = ScenarioLoader.Load(Base, "ok.json").Single();
        Assert.Equal(3, s.NodeCount);
        Assert.Equal(86_400_000_000_000, s.Duration);
        Assert.Equal(60 / 3600.0, s.Communities[0].Rate, 12);
        Assert.Equal("/chat/1/chat/proto", s.Communities[0].ContentTopic);
        Assert.Equal(300_000_000_000, s.Groups[0].Sync.Interval);
        Assert.Equal(SyncProtocol.Native, s.Groups[0].Sync.Protocol);
        Assert.Equal(1.0, s.Groups[0].OnlineFraction);
        Assert.True(s.Groups[0].Limits.IsNone);
    }

    [Fact]
    public void A_misspelt_field_is_named_with_a_suggestion() =>
        FailsWith("nodeGroups[0].onlin", "did you mean \"online\"", "nodeGroups[0].onlin=0.5");

    [Fact]
    public void Missing_required_fields_are_named()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Load("""{ "name": "x" }""", "bad.json"));
        Assert.Contains(e.Problems, p => p.StartsWith("duration: required"));
        Assert.Contains(e.Problems, p => p.StartsWith("communities: required"));
        Assert.Contains(e.Problems, p => p.StartsWith("nodeGroups: required"));
    }

    [Theory]
    [InlineData("duration", "not a duration", "duration=\"5 parsecs\"")]
    [InlineData("duration", "expected a duration", "duration=true")]
    [InlineData("sampleEvery", "more than", "sampleEvery=\"1ms\"")]
    [InlineData("communities[0].rate", "not a rate", "communities[0].rate=\"60 per hour\"")]
    [InlineData("communities[0].rate", "exactly one", "communities[0].messages=10")]
    [InlineData("communities[0].messageSize", "out of range", "communities[0].messageSize=\"1 MiB\"")]
    [InlineData("communities[0].pubsubTopic", "", "communities[0].pubsubTopic=\"not-a-topic\"")]
    [InlineData("communities[0].stop", "after start", "communities[0].start=\"2h\"", "communities[0].stop=\"1h\"")]
    [InlineData("nodeGroups[0].online", "out of range", "nodeGroups[0].online=1.5")]
    [InlineData("nodeGroups[0].online", "must be > 0", "nodeGroups[0].online=0")]
    [InlineData("nodeGroups[0].ingestLoss", "must be < 1", "nodeGroups[0].ingestLoss=1")]
    [InlineData("nodeGroups[0].count", "whole number", "nodeGroups[0].count=2.5")]
    [InlineData("nodeGroups[0].count", "out of range", "nodeGroups[0].count=100000")]
    [InlineData("nodeGroups[0].communities[0]", "no community named", "nodeGroups[0].communities=[\"news\"]")]
    [InlineData("nodeGroups[0].sync.protocol", "not one of", "nodeGroups[0].sync={\"protocol\": \"gossip\"}")]
    [InlineData("nodeGroups[0].network.bandwidth", "not a bandwidth", "nodeGroups[0].network={\"bandwidth\": \"fast\"}")]
    [InlineData("sync.interval", "out of range", "sync.interval=\"10ms\"")]
    [InlineData("sync.parallel", "true or false", "sync.parallel=\"yes\"")]
    [InlineData("sync.knownPeers", "", "sync.knownPeers=-1")]
    [InlineData("retention.maxAge", "not a duration", "retention.maxAge=\"forever\"")]
    [InlineData("storage", "not one of", "storage=\"tape\"")]
    [InlineData("name", "letters, digits", "name=\"../escape\"")]
    [InlineData("network.links[0].between[1]", "no node group named", "network.links=[{\"between\": [\"g\", \"h\"], \"latency\": \"1s\"}]")]
    public void Bad_values_are_named(string field, string text, params string[] overrides) => FailsWith(field, text, overrides);

    [Fact]
    public void Expensive_scenarios_are_refused_before_running()
    {
        FailsWith("communities", "messages expected", "communities[0].rate=\"1000/s\"", "duration=\"1w\"");
        FailsWith("nodeGroups", "sync sessions expected", "nodeGroups[0].count=5000", "sync.interval=\"1s\"", "duration=\"10d\"");
    }

    [Fact]
    public void Bad_json_and_bad_overrides_are_reported()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Load("{ \"name\": ", "broken.json"));
        Assert.Contains("not valid JSON", e.Problems[0]);
        FailsWith("--set nodeGroups[4].count=1", "does not exist", "nodeGroups[4].count=1");
        FailsWith("--set oops", "path=value", "oops");
    }

    [Fact]
    public void Sweeps_expand_to_every_combination_and_are_bounded()
    {
        var all = ScenarioLoader.Load(Base, "s.json", ["sweep={\"sync.interval\": [\"1m\", \"5m\", \"15m\"], \"sync.peers\": [1, 4]}"]);
        Assert.Equal(6, all.Count);
        Assert.Equal("t_interval=1m_peers=1", all[0].Name);
        Assert.Equal("t_interval=15m_peers=4", all[^1].Name);
        Assert.Equal(4, all[^1].Groups[0].Sync.Peers);
        Assert.Equal(900_000_000_000, all[^1].Groups[0].Sync.Interval);
        var big = "[" + string.Join(',', Enumerable.Range(1, 20)) + "]";
        var e = Fails($"sweep={{\"sync.peers\": {big}, \"nodeGroups[0].count\": {big}}}");
        Assert.Contains(e.Problems, p => p.StartsWith("sweep:") && p.Contains("400 combinations"));
    }

    [Fact]
    public void A_missing_file_is_a_clear_error()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.LoadFile("/nonexistent/scenario.json"));
        Assert.Contains("does not exist", e.Message);
    }

    [Theory]
    [InlineData("90s", 90_000_000_000L)]
    [InlineData("2.5h", 9_000_000_000_000L)]
    [InlineData("250ms", 250_000_000L)]
    [InlineData("1w", 604_800_000_000_000L)]
    [InlineData("3", 3_000_000_000L)]
    public void Durations_parse(string text, long nanos) => Assert.Equal(nanos, Units.Duration(text, out _));

    [Theory]
    [InlineData("10 Mbit/s", 1_250_000)]
    [InlineData("2 MB/s", 2_000_000)]
    [InlineData("512 KiB/s", 524_288)]
    public void Bandwidths_parse(string text, double bytesPerSecond) => Assert.Equal(bytesPerSecond, Units.Bandwidth(text, out _));
}
