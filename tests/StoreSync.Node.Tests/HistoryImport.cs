using System.Text;

namespace StoreSync.Node.Tests;

/// <summary>Fills a fresh store folder with history through <c>storesync import</c> (NDJSON), for tests that need a node
/// holding many or large messages before it starts.</summary>
public static class HistoryImport
{
    /// <summary>One message to import: random payload of <paramref name="PayloadBytes"/> bytes.</summary>
    public sealed record Entry(string PubsubTopic, string ContentTopic, int PayloadBytes, long Timestamp);

    /// <summary>Imports <paramref name="entries"/> into <paramref name="dataDir"/>; payloads are random from <paramref name="seed"/>.</summary>
    public static async Task ImportAsync(string dataDir, IEnumerable<Entry> entries, int seed)
    {
        var random = new Random(seed);
        var lines = new StringBuilder();
        foreach (var e in entries)
        {
            var body = new byte[e.PayloadBytes];
            random.NextBytes(body);
            lines.Append($$"""{"pubsubTopic":"{{e.PubsubTopic}}","contentTopic":"{{e.ContentTopic}}","payload":"{{Convert.ToBase64String(body)}}","timestamp":{{e.Timestamp}}}""").Append('\n');
        }
        var file = dataDir.TrimEnd('/') + ".ndjson";
        await File.WriteAllTextAsync(file, lines.ToString());
        try
        {
            var import = await StoresyncProcess.RunAsync(null, "import", file, "--data-dir", dataDir);
            Assert.True(import.ExitCode == 0, import.Stderr);
        }
        finally { File.Delete(file); }
    }
}
