using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using StoreSync.Core;
using StoreSync.Storage;
using StoreSync.Testing.Node;
using Xunit.Abstractions;

namespace StoreSync.Node.Tests;

/// <summary>
/// Issue 17's swarm backfill with real processes (spec/sync.md §5.7): `storesync backfill` fills an empty store from three node
/// processes at once, each message sent once; goes on from the others when one peer is killed; resumes after being killed
/// with -9 without fetching again what it stored; charges every byte to its download limit; keeps the newest under a quota.
/// </summary>
public sealed partial class SwarmBackfillProcessTests(ITestOutputHelper output) : IDisposable
{
    const string P0 = "/waku/2/rs/1/0", Chat = "/chat/1/swarm/proto";
    const int PayloadBytes = 1024;
    static readonly long Now = Timestamp.Now();
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-swarm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"^storesync_sync_items_sent_total\{[^}]*\} (\d+)", RegexOptions.Multiline)]
    private static partial Regex ItemsSent();

    [GeneratedRegex(@"backfill \S+: \S+% (\d+) messages \((\d+) B\) fetched")]
    private static partial Regex ProgressLine();

    /// <summary>Message i: 1 KiB of payload derived from i (the same message whichever peer holds it), i minutes old.</summary>
    static long TimestampOf(int i) => Now - (i + 1) * 60 * Timestamp.NanosPerSecond;

    async Task<string> ImportAsync(string name, IEnumerable<int> indexes, string content = Chat)
    {
        var dataDir = Path.Combine(_dir, name);
        var file = Path.Combine(_dir, name + ".ndjson");
        var lines = new StringBuilder();
        foreach (int i in indexes)
        {
            var body = new byte[PayloadBytes];
            for (int k = 0; k < PayloadBytes; k += 32) SHA256.HashData(Encoding.UTF8.GetBytes($"{i}/{k}")).AsSpan(0, Math.Min(32, PayloadBytes - k)).CopyTo(body.AsSpan(k));
            lines.Append($$"""{"pubsubTopic":"{{P0}}","contentTopic":"{{content}}","payload":"{{Convert.ToBase64String(body)}}","timestamp":{{TimestampOf(i)}}}""").Append('\n');
        }
        await File.WriteAllTextAsync(file, lines.ToString());
        var import = await StoresyncProcess.RunAsync(null, "import", file, "--data-dir", dataDir);
        Assert.True(import.ExitCode == 0, import.Stderr);
        return dataDir;
    }

    static Task<StoreNodeProcess> PeerAsync(string dataDir) => StoreNodeProcess.StartAsync(new StoreNodeSettings
    {
        DataDir = dataDir, Metrics = true, Rest = false,
        Args = ["--shard", "0", "--store-sync-interval", "3600", "--store-sync-history-interval", "3600"],
    });

    static async Task<long> ScrapeAsync(StoreNodeProcess node, Regex metric)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        return metric.Matches(await http.GetStringAsync(node.Metrics!)).Sum(m => long.Parse(m.Groups[1].Value));
    }

    /// <summary>The filled store's messages, oldest first (read after the backfill process has exited).</summary>
    static List<long> StoredTimestamps(string dataDir)
    {
        using var store = MessageStore.Open(dataDir);
        using var reader = store.OpenTimeIndex(P0, long.MinValue, MessageHash.Zero, forward: true);
        var list = new List<long>();
        while (reader.MoveNext()) list.Add(reader.Current.Timestamp);
        return list;
    }

    /// <summary>A running `storesync backfill`, its output kept line by line.</summary>
    sealed class BackfillProcess : IAsyncDisposable
    {
        readonly Process _process;
        readonly List<string> _lines = [];
        readonly Task _out, _err;

        public BackfillProcess(params string[] args)
        {
            _process = Process.Start(StoresyncProcess.StartInfo(["backfill", .. args]))!;
            _process.StandardInput.Close();
            _out = Keep(_process.StandardOutput);
            _err = Keep(_process.StandardError);
        }

        async Task Keep(StreamReader reader)
        {
            while (await reader.ReadLineAsync() is { } line) lock (_lines) _lines.Add(line);
        }

        public string Output { get { lock (_lines) return string.Join("\n", _lines); } }

        /// <summary>The messages and bytes of the last progress line, if any.</summary>
        public (long Messages, long Bytes)? Progress
        {
            get
            {
                lock (_lines)
                    for (int i = _lines.Count - 1; i >= 0; i--)
                        if (ProgressLine().Match(_lines[i]) is { Success: true } m) return (long.Parse(m.Groups[1].Value), long.Parse(m.Groups[2].Value));
                return null;
            }
        }

        /// <summary>Waits (bounded) until the last progress line reports at least <paramref name="messages"/>.</summary>
        public async Task WaitForProgressAsync(long messages, int seconds = 90)
        {
            for (int round = 0; Progress is not { } p || p.Messages < messages; round++)
            {
                Assert.False(_process.HasExited, "the backfill ended before " + messages + " messages:\n" + Output);
                Assert.True(round < seconds * 20, $"no progress to {messages} messages in {seconds} s:\n{Output}");
                await Task.Delay(50);
            }
        }

        public async Task<int> ExitAsync(int seconds = 150)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
            try { await _process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"backfill did not finish in {seconds} s:\n{Output}"); }
            await Task.WhenAll(_out, _err).WaitAsync(TimeSpan.FromSeconds(10));
            return _process.ExitCode;
        }

        public void Kill9() => _process.Kill(entireProcessTree: true);

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            try { await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20)); } catch (TimeoutException) { }
            _process.Dispose();
        }
    }

    [Fact]
    public async Task An_empty_node_fills_from_three_peers_one_whole_two_overlapping_halves_and_each_message_is_sent_once()
    {
        const int n = 3000;
        var whole = await ImportAsync("whole", Enumerable.Range(0, n));
        var older = await ImportAsync("older", Enumerable.Range(1200, 1800).Append(n + 1));      // the older 60 % and one only it holds
        var newer = await ImportAsync("newer", Enumerable.Range(0, 1800).Append(n + 2));         // the newer 60 % and one only it holds
        await using var a = await PeerAsync(whole);
        await using var b = await PeerAsync(older);
        await using var c = await PeerAsync(newer);
        var filled = Path.Combine(_dir, "filled");

        await using var backfill = new BackfillProcess("--data-dir", filled, "--peer", a.Address, "--peer", b.Address, "--peer", c.Address);
        int exit = await backfill.ExitAsync();
        output.WriteLine(backfill.Output);

        Assert.True(exit == 0, backfill.Output);
        Assert.Contains("backfill " + P0 + ": finished, " + (n + 2) + " messages", backfill.Output);
        var stored = StoredTimestamps(filled);
        Assert.Equal(n + 2, stored.Count);
        Assert.Contains(TimestampOf(n + 1), stored);
        Assert.Contains(TimestampOf(n + 2), stored);
        // Each message left exactly one peer, and more than one peer sent.
        long[] sent = [await ScrapeAsync(a, ItemsSent()), await ScrapeAsync(b, ItemsSent()), await ScrapeAsync(c, ItemsSent())];
        output.WriteLine($"sent: {string.Join(", ", sent)}");
        Assert.Equal(n + 2, sent.Sum());
        Assert.True(sent.Count(s => s > 0) >= 2, string.Join(", ", sent));
    }

    [Fact]
    public async Task A_peer_killed_mid_way_leaves_the_fill_to_the_others()
    {
        const int n = 6000;
        string[] dirs = [await ImportAsync("a", Enumerable.Range(0, n)), await ImportAsync("b", Enumerable.Range(0, n)), await ImportAsync("c", Enumerable.Range(0, n))];
        await using var a = await PeerAsync(dirs[0]);
        await using var b = await PeerAsync(dirs[1]);
        await using var c = await PeerAsync(dirs[2]);
        var filled = Path.Combine(_dir, "filled");
        // Paced (2 MiB/s for ~6.5 MB) so that there is a "mid-way" to kill a peer in.
        await using var backfill = new BackfillProcess("--data-dir", filled, "--download-limit", (2 << 20).ToString(),
            "--peer", a.Address, "--peer", b.Address, "--peer", c.Address);
        await backfill.WaitForProgressAsync(n / 10);
        b.Kill();

        int exit = await backfill.ExitAsync();
        output.WriteLine(backfill.Output);
        Assert.True(exit == 0, backfill.Output);
        Assert.Equal(n, StoredTimestamps(filled).Count);
        Assert.Contains("failed", backfill.Output);
    }

    [Fact]
    public async Task Killed_with_sigkill_mid_way_it_resumes_without_fetching_again_and_every_byte_is_charged_to_its_download_limit()
    {
        const int n = 6000;
        const long rate = 512 << 10;   // ~13 s for the 6.5 MB: room for the checks below before the kill, on a loaded machine
        string[] dirs = [await ImportAsync("a", Enumerable.Range(0, n)), await ImportAsync("b", Enumerable.Range(0, n))];
        await using var a = await PeerAsync(dirs[0]);
        await using var b = await PeerAsync(dirs[1]);
        var filled = Path.Combine(_dir, "filled");
        int restPort = StoreNodeProcess.FreePort();
        string[] args = ["--data-dir", filled, "--download-limit", rate.ToString(), "--rest-port", restPort.ToString(), "--peer", a.Address, "--peer", b.Address];

        long fetchedFirst;
        await using (var first = new BackfillProcess(args))
        {
            await first.WaitForProgressAsync(n / 3);
            // The limit is in force and every transfer byte so far was charged to it (paced).
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{restPort}"), Timeout = TimeSpan.FromSeconds(20) };
            var seen = first.Progress!.Value;
            var global = JsonDocument.Parse(await http.GetStringAsync("/admin/v1/figures")).RootElement.GetProperty("global");
            var download = global.GetProperty("download");
            Assert.Equal(rate, download.GetProperty("limitBytesPerSecond").GetInt64());
            Assert.True(download.GetProperty("historyBytes").GetInt64() >= seen.Bytes, download.ToString());
            // The figures (and so the dashboard's progress bar) show the backfill as it runs.
            var running = global.GetProperty("backfill").EnumerateArray().Single(b => b.GetProperty("name").GetString() == P0);
            Assert.InRange(running.GetProperty("fraction").GetDouble(), 0.01, 0.99);
            Assert.True(running.GetProperty("messages").GetInt64() >= seen.Messages);
            Assert.Equal(2, running.GetProperty("peers").GetArrayLength());
            Assert.Contains("backfill-table", await http.GetStringAsync("/dashboard"));
            first.Kill9();
            await first.ExitAsync();
            fetchedFirst = StoredTimestamps(filled).Count;
            output.WriteLine($"first run killed with {fetchedFirst} messages stored:\n{first.Output}");
        }
        Assert.InRange(fetchedFirst, n / 3, n - 1);
        long sentBefore = await ScrapeAsync(a, ItemsSent()) + await ScrapeAsync(b, ItemsSent());

        await using var second = new BackfillProcess(args);
        int exit = await second.ExitAsync();
        output.WriteLine(second.Output);
        Assert.True(exit == 0, second.Output);
        Assert.Contains("resumed", second.Output);
        Assert.Equal(n, StoredTimestamps(filled).Count);
        // Sent in all: the union, plus at most what was on its way when the first run died (the peers' windows: < 2 × 1.3 MiB).
        long sent = await ScrapeAsync(a, ItemsSent()) + await ScrapeAsync(b, ItemsSent());
        output.WriteLine($"sent {sentBefore} before the kill, {sent} in all, for {n} messages");
        Assert.InRange(sent, n, n + 2 * 1400);
        Assert.True(sent - sentBefore <= n - fetchedFirst + 2 * 1400, $"the resumed run had {sent - sentBefore} sent for {n - fetchedFirst} missing");
    }

    [Fact]
    public async Task Under_a_storage_limit_the_newest_messages_are_kept()
    {
        const int n = 3000;
        string[] dirs = [await ImportAsync("a", Enumerable.Range(0, n)), await ImportAsync("b", Enumerable.Range(0, n))];
        await using var a = await PeerAsync(dirs[0]);
        await using var b = await PeerAsync(dirs[1]);
        var filled = Path.Combine(_dir, "filled");
        var config = Path.Combine(_dir, "limited.json");
        // About 500 of the 1 KiB messages fit.
        await File.WriteAllTextAsync(config, $$"""
            { "StoreSync": { "Shards": [0], "StoreUnlisted": false,
              "Communities": { "chat": { "PubsubTopics": ["{{P0}}"], "ContentTopics": ["{{Chat}}"], "MaxBytes": 600000 } } } }
            """);

        await using var backfill = new BackfillProcess("--data-dir", filled, "--config", config, "--community", "chat", "--peer", a.Address, "--peer", b.Address);
        int exit = await backfill.ExitAsync();
        output.WriteLine(backfill.Output);
        Assert.True(exit == 0, backfill.Output);

        var stored = StoredTimestamps(filled);
        output.WriteLine($"{stored.Count} kept");
        Assert.InRange(stored.Count, 300, 600);
        // The newest: exactly messages 0..k-1, nothing older.
        Assert.Equal(Enumerable.Range(0, stored.Count).Select(TimestampOf).Order(), stored);
        long sent = await ScrapeAsync(a, ItemsSent()) + await ScrapeAsync(b, ItemsSent());
        Assert.True(sent < n / 2, $"{sent} sent for {stored.Count} kept of {n}");
    }

    [Fact]
    public async Task Bad_flags_are_refused_with_the_reason()
    {
        var none = await StoresyncProcess.RunAsync(null, "backfill", "--data-dir", Path.Combine(_dir, "x"));
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("at least one --peer", none.Stderr);
        var bad = await StoresyncProcess.RunAsync(null, "backfill", "--data-dir", Path.Combine(_dir, "x"), "--peer", "/ip4/127.0.0.1/tcp/1");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--peer: '/ip4/127.0.0.1/tcp/1' is not a multiaddr ending in /p2p/", bad.Stderr);
        var unknown = await StoresyncProcess.RunAsync(null, "backfill", "--data-dir", Path.Combine(_dir, "x"), "--community", "nope",
            "--peer", "/ip4/127.0.0.1/tcp/1/p2p/" + Libp2p.Identity.IdentityKey.Generate(Libp2p.Identity.KeyType.Ed25519).PeerId);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--community: 'nope' is not a community this node syncs", unknown.Stderr);
    }
}
