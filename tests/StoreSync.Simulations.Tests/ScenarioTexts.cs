namespace StoreSync.Simulations.Tests;

/// <summary>Small scenarios for tests: seconds of CPU at most.</summary>
internal static class ScenarioTexts
{
    /// <summary>Ten nodes online half the time with 5 % ingest loss; publishing stops at 6 h, the run ends at 14 h.</summary>
    public const string Small = """
    {
      "name": "small",
      "seed": 7,
      "duration": "14h",
      "sampleEvery": "30m",
      "communities": [ { "name": "chat", "rate": "120/h", "messageSize": { "min": 100, "max": 900 }, "stop": "6h" } ],
      "sync": { "interval": "5m", "peers": 2 },
      "nodeGroups": [ { "name": "volunteers", "count": 10, "online": 0.5, "session": "1h", "ingestLoss": 0.05 } ]
    }
    """;

    /// <summary>Every node always online and knowing every other; ingest loss makes sync necessary.</summary>
    public const string FullyConnected = """
    {
      "name": "connected",
      "seed": 3,
      "duration": "3h",
      "sampleEvery": "5m",
      "communities": [ { "name": "chat", "messages": 600, "messageSize": 300, "stop": "2h" } ],
      "sync": { "interval": "2m", "peers": 2, "knownPeers": 0 },
      "nodeGroups": [ { "name": "always", "count": 8, "online": 1, "ingestLoss": 0.1 } ]
    }
    """;

    /// <summary>For the real-nodes mode: 3 nodes always online with 30 % ingest loss (sync must repair it) and one that comes
    /// and goes every ~10 minutes and receives almost nothing live (it catches up by sync alone); 200 messages in the first hour
    /// of 100 minutes. At speed-up 150 that is 40 s on the wall clock, syncing every 2 s.</summary>
    public const string RealNodes = """
    {
      "name": "real-test",
      "seed": 5,
      "duration": "100m",
      "sampleEvery": "2m",
      "communities": [ { "name": "chat", "messages": 200, "messageSize": { "min": 100, "max": 600 }, "stop": "1h" } ],
      "sync": { "interval": "5m", "peers": 3, "parallel": true },
      "network": { "latency": "1ms", "bandwidth": "1 Gbit/s" },
      "nodeGroups": [
        { "name": "always", "count": 3, "online": 1, "ingestLoss": 0.3 },
        { "name": "visitor", "count": 1, "online": 0.5, "session": "10m", "sessionDistribution": "fixed", "ingestLoss": 0.999999 }
      ]
    }
    """;
}
