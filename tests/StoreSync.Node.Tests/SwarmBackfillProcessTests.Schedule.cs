using System.Globalization;
using System.Text.RegularExpressions;
using StoreSync.Testing.Node;

namespace StoreSync.Node.Tests;

/// <summary>The swarm backfill the node's own sync schedule starts (spec/sync.md §5.7, "Started by the schedule"): no CLI, just
/// `storesync node` with its `--staticnode` peers.</summary>
public sealed partial class SwarmBackfillProcessTests
{
    [GeneratedRegex(@"^storesync_backfill_fetched_messages\{[^}]*\} (\S+)", RegexOptions.Multiline)]
    private static partial Regex FetchedGauge();

    static Task<StoreNodeProcess> FillingNodeAsync(string dataDir, StoreNodeProcess[] peers, params string[] args) => StoreNodeProcess.StartAsync(new StoreNodeSettings
    {
        DataDir = dataDir, Metrics = true, Rest = false,
        Args = ["--shard", "0", "--store-sync-interval", "3600", "--store-sync-history-interval", "3600",
            .. peers.SelectMany(p => new[] { "--staticnode", p.Address }), .. args],
    });

    static async Task<long> FetchedAsync(StoreNodeProcess node)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var m = FetchedGauge().Match(await http.GetStringAsync(node.Metrics!));
        return m.Success ? (long)double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    [Fact]
    public async Task An_empty_node_with_two_static_peers_holding_overlapping_halves_fills_by_swarm_by_itself_each_message_sent_once()
    {
        const int n = 3000;
        var newer = await ImportAsync("newer", Enumerable.Range(0, 1800));
        var older = await ImportAsync("older", Enumerable.Range(1200, 1800));
        await using var a = await PeerAsync(newer);
        await using var b = await PeerAsync(older);
        var filled = Path.Combine(_dir, "filled");

        await using (var node = await FillingNodeAsync(filled, [a, b]))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
            await node.WaitForOutputAsync("Backfill finished", timeout.Token);
            output.WriteLine(node.Output);
            Assert.Contains("started by the sync schedule from 2 peers: nothing of it is stored here", node.Output);
            Assert.Equal(n, await FetchedAsync(node));
            long[] sent = [await ScrapeAsync(a, ItemsSent()), await ScrapeAsync(b, ItemsSent())];
            output.WriteLine($"sent: {string.Join(", ", sent)}");
            Assert.Equal(n, sent.Sum());
            Assert.All(sent, s => Assert.True(s > 0, string.Join(", ", sent)));
            Assert.Equal(0, await node.TerminateAsync());
        }
        Assert.Equal(Enumerable.Range(0, n).Select(TimestampOf).Order(), StoredTimestamps(filled));
    }

    [Fact]
    public async Task The_schedule_s_backfill_killed_with_sigkill_resumes_on_restart_without_fetching_again()
    {
        const int n = 6000;
        string[] dirs = [await ImportAsync("a", Enumerable.Range(0, n)), await ImportAsync("b", Enumerable.Range(0, n))];
        await using var a = await PeerAsync(dirs[0]);
        await using var b = await PeerAsync(dirs[1]);
        var filled = Path.Combine(_dir, "filled");
        // Paced (512 KiB/s for ~6.5 MB) so that there is a "mid-way" to kill it in.
        string[] limit = ["--download-limit", (512 << 10).ToString(CultureInfo.InvariantCulture)];

        long fetchedFirst, bytesFirst;
        await using (var first = await FillingNodeAsync(filled, [a, b], limit))
        {
            for (int round = 0; await FetchedAsync(first) < n / 3; round++)
            {
                Assert.True(round < 1200, "no backfill progress to a third in 120 s:\n" + first.Output);
                await Task.Delay(100);
            }
            first.Kill();
            await first.WaitForExitAsync();
            output.WriteLine(first.Output);
        }
        fetchedFirst = StoredTimestamps(filled).Count;
        bytesFirst = BackfillFileBytes(filled);
        output.WriteLine($"first run killed with {fetchedFirst} stored, progress file at {bytesFirst} B");
        Assert.InRange(fetchedFirst, n / 3, n - 1);
        long sentBefore = await ScrapeAsync(a, ItemsSent()) + await ScrapeAsync(b, ItemsSent());

        await using (var second = await FillingNodeAsync(filled, [a, b], limit))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
            await second.WaitForOutputAsync("Backfill finished", timeout.Token);
            output.WriteLine(second.Output);
            Assert.Contains("an interrupted backfill is resumed", second.Output);
            Assert.Contains("resumed:", second.Output);
            Assert.Equal(0, await second.TerminateAsync());
        }
        Assert.Equal(n, StoredTimestamps(filled).Count);
        // Sent in all: the union plus at most what was on its way when the first run died (the peers' windows: < 2 × 1.3 MiB).
        long sent = await ScrapeAsync(a, ItemsSent()) + await ScrapeAsync(b, ItemsSent());
        output.WriteLine($"sent {sentBefore} before the kill, {sent} in all, for {n} messages");
        Assert.InRange(sent, n, n + 2 * 1400);
        Assert.True(sent - sentBefore <= n - fetchedFirst + 2 * 1400, $"the resumed run had {sent - sentBefore} sent for {n - fetchedFirst} missing");
        Assert.False(Directory.EnumerateFiles(Path.Combine(filled, "backfill"), "*.progress").Any(), "a finished backfill leaves no progress file");
    }

    // The bytes the killed run's progress file says were fetched (0 without a file).
    static long BackfillFileBytes(string dataDir)
    {
        var dir = Path.Combine(dataDir, "backfill");
        if (!Directory.Exists(dir)) return 0;
        foreach (var file in Directory.EnumerateFiles(dir, "*.progress"))
            foreach (var line in File.ReadLines(file))
                if (line.StartsWith("fetched ", StringComparison.Ordinal)) return long.Parse(line.Split(' ')[2], CultureInfo.InvariantCulture);
        return 0;
    }
}
