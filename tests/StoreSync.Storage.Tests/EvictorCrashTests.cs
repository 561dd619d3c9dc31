using System.Diagnostics;
using StoreSync.Core;

namespace StoreSync.Storage.Tests;

/// <summary>Each eviction chunk — its deletions, counters and horizon — is one atomic batch: a SIGKILL mid-eviction leaves a FIFO cut.</summary>
public class EvictorCrashTests
{
    [Fact]
    public async Task A_kill_9_mid_eviction_leaves_each_scope_cut_exactly_at_its_horizon()
    {
        string folder = Directory.CreateTempSubdirectory("storesync-evict-crash-").FullName;
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(CrashTests.ChildAssembly());
            start.ArgumentList.Add("evict");
            start.ArgumentList.Add(folder);
            using var child = Process.Start(start)!;
            // Acknowledged inserts with their scope ("a" = the writer's first pubsub topic, "b" = its second), and the horizons after the last acknowledged chunk.
            var acknowledged = new List<(string Scope, long Timestamp, MessageHash Hash)>();
            var lastHorizons = new Dictionary<string, (long Timestamp, MessageHash Hash)>();
            int chunks = 0;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            while (chunks < 400)
            {
                var line = await child.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null) Assert.Fail("the eviction writer stopped early: " + await child.StandardError.ReadToEndAsync());
                if (line.StartsWith("+ ", StringComparison.Ordinal))
                    acknowledged.AddRange(line[2..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(x => (x[..1], Parse(x[2..]))).Select(x => (x.Item1, x.Item2.Item1, x.Item2.Item2)));
                else if (line.StartsWith('c'))
                {
                    chunks++;
                    foreach (var part in line[1..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                        lastHorizons[part[..part.IndexOf('=')]] = Parse(part[(part.IndexOf('=') + 1)..]);
                }
            }
            child.Kill(); // SIGKILL, mid-eviction: every round leaves chunks to do
            await child.WaitForExitAsync(timeout.Token);

            using var store = MessageStore.Open(folder);
            Assert.Empty(StoreIntegrity.Check(store));
            var pubsubs = new[] { ("a", "/waku/2/rs/1/0"), ("b", "/waku/2/rs/1/1") };
            Assert.Equal(2, lastHorizons.Count);
            foreach (var (scope, pubsub) in pubsubs)
            {
                var horizon = store.GetRetentionHorizon(scope);
                Assert.NotNull(horizon);
                var h = horizon.Value;
                // The horizon persisted is at least the one acknowledged last (later chunks may have landed before the kill).
                Assert.True(h.Covers(lastHorizons[scope].Timestamp, lastHorizons[scope].Hash));
                // Nothing at or below the horizon is left in the scope...
                using (var reader = store.OpenTimeIndex(pubsub, long.MinValue, MessageHash.Zero, forward: true))
                    while (reader.MoveNext()) Assert.False(h.Covers(reader.Current.Timestamp, reader.Current.Hash), $"scope {scope} keeps {reader.Current.Hash} at or below its horizon");
            }
            // ...and every acknowledged message above its scope's horizon is there: a chunk's deletions never land without its horizon.
            foreach (var (scope, ts, hash) in acknowledged)
                Assert.Equal(!store.GetRetentionHorizon(scope)!.Value.Covers(ts, hash), store.Contains(hash));
            Assert.Contains(acknowledged, a => store.GetRetentionHorizon(a.Scope)!.Value.Covers(a.Timestamp, a.Hash));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    static (long, MessageHash) Parse(string text)
    {
        int colon = text.IndexOf(':');
        return (long.Parse(text[..colon], System.Globalization.CultureInfo.InvariantCulture), MessageHash.Parse(text[(colon + 1)..]));
    }
}
