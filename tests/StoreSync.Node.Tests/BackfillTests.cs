using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using StoreSync.Core;
using StoreSync.Testing.Node;
using Xunit.Abstractions;

namespace StoreSync.Node.Tests;

/// <summary>
/// Issue 6's backfill between two real node processes: a node joining a community with a storage limit fetches its history by
/// sync from the present backwards and stops at the limit, so the peer pushes only about the newest limit's worth (not the
/// whole history); after the limit is raised, it walks on backwards from where it is and stops at the new limit. (The join itself
/// is a swarm backfill from its one peer, which the schedule starts for an empty store; it too keeps the newest that fit.)
/// </summary>
public sealed partial class BackfillTests(ITestOutputHelper output) : IDisposable
{
    const string P0 = "/waku/2/rs/1/0", Chat = "/chat/1/history/proto";
    const int Messages = 80, PayloadBytes = 10 * 1024;
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-backfill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"^storesync_sync_items_sent_total\{[^}]*\} (\d+)", RegexOptions.Multiline)]
    private static partial Regex ItemsSent();

    [Fact]
    public async Task A_joining_node_fetches_the_newest_history_first_and_stops_at_its_limit_and_walks_on_when_it_is_raised()
    {
        // One message an hour for the last 80 hours (message i is i + ½ hours old), 10 KiB each.
        long now = Timestamp.Now(), hour = 3600 * Timestamp.NanosPerSecond;
        long TimestampOf(int i) => now - i * hour - hour / 2;
        var holderData = Path.Combine(_dir, "holder");
        await HistoryImport.ImportAsync(holderData, Enumerable.Range(0, Messages).Select(i => new HistoryImport.Entry(P0, Chat, PayloadBytes, TimestampOf(i))), seed: 6);

        string[] sync = ["--store-sync-interval", "2", "--store-sync-history-interval", "4", "--store-sync-relay-jitter", "0"];
        await using var holder = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = holderData, Metrics = true, Args = ["--shard", "0", .. sync] });
        var config = Path.Combine(_dir, "fetcher.json");
        // About 9 of the 10 KiB messages fit in 100,000 bytes.
        await File.WriteAllTextAsync(config, $$"""
            { "StoreSync": { "Shards": [0], "StoreUnlisted": false,
              "Communities": { "chat": { "PubsubTopics": ["{{P0}}"], "ContentTopics": ["{{Chat}}"], "MaxBytes": 100000 } } } }
            """);
        await using var fetcher = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Args = ["--config", config, "--staticnode", holder.Address, .. sync] });
        using var http = new HttpClient { BaseAddress = fetcher.Rest, Timeout = TimeSpan.FromSeconds(20) };
        using var metricsHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };

        async Task<long> Sent() => ItemsSent().Matches(await metricsHttp.GetStringAsync(holder.Metrics!)).Sum(m => long.Parse(m.Groups[1].Value));
        async Task<JsonElement> ChatAsync() => JsonDocument.Parse(await http.GetStringAsync("/admin/v1/communities/chat")).RootElement;

        // Bounded wait: the walk stopped at the limit (logged), and the store settled under it.
        async Task<(long Count, long Oldest)> SettledAsync(int stops, long limit)
        {
            for (int round = 0; ; round++)
            {
                var chat = await ChatAsync();
                var stored = chat.GetProperty("stored");
                long count = stored.GetProperty("messages").GetInt64(), bytes = stored.GetProperty("bytes").GetInt64();
                // The join is a swarm backfill the schedule starts by itself (an empty store, spec/sync.md §5.7), later runs walk.
                int logged = Regex.Matches(fetcher.Output, "stopped at its storage limit|Backfill finished chat").Count;
                if (logged >= stops && bytes <= limit && count > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(6));   // more history runs: nothing further may come
                    chat = await ChatAsync();
                    stored = chat.GetProperty("stored");
                    return (stored.GetProperty("messages").GetInt64(), stored.GetProperty("oldest").GetInt64());
                }
                Assert.True(round < 600, $"no settled backfill in 60 s: {chat}\n{fetcher.Output}");
                await Task.Delay(100);
            }
        }

        // Joining: the newest messages that fit, nothing older, and the holder pushed about a window beyond them, not all 80.
        var (count, oldest) = await SettledAsync(1, 100_000);
        long sentFirst = await Sent();
        output.WriteLine($"joined: {count} newest messages kept (oldest {Timestamp.Format(oldest)}), the holder pushed {sentFirst} of {Messages}");
        Assert.InRange(count, 5, 10);
        Assert.Equal(TimestampOf((int)count - 1), oldest);
        Assert.InRange(sentFirst, count, 2 * count + 2);

        // Raising the limit clears the horizon: the next history run walks on backwards and stops at the new limit.
        var patch = await http.PatchAsJsonAsync("/admin/v1/communities/chat", new { maxBytes = 250_000 });
        Assert.True(patch.IsSuccessStatusCode, await patch.Content.ReadAsStringAsync());
        var (raised, raisedOldest) = await SettledAsync(2, 250_000);
        long sentTotal = await Sent();
        output.WriteLine($"raised: {raised} newest messages kept (oldest {Timestamp.Format(raisedOldest)}), the holder pushed {sentTotal} of {Messages} in all");
        Assert.InRange(raised, 20, 25);
        Assert.Equal(TimestampOf((int)raised - 1), raisedOldest);
        Assert.InRange(sentTotal, raised, 2 * raised + 2 + sentFirst);
        Assert.True(sentTotal < Messages, $"the holder pushed {sentTotal}: the whole history");
    }
}
