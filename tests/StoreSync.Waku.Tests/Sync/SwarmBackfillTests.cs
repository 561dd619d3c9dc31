using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Identity;
using StoreSync.Reconciliation;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Sync.Backfill;

namespace StoreSync.Waku.Tests.Sync;

/// <summary>Swarm backfill over real hosts and stores (spec/sync.md §5.7): an empty node fills from three peers at once, each
/// message arriving once; stopped mid-way and started again it resumes from its progress file without fetching anything twice.</summary>
public sealed class SwarmBackfillTests : IDisposable
{
    const string Pubsub = "/waku/2/rs/1/0";
    static readonly long Now = Timestamp.Now();
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(120));
    readonly string _progress = Path.Combine(Path.GetTempPath(), "storesync-backfill-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        _timeout.Dispose();
        if (Directory.Exists(_progress)) Directory.Delete(_progress, recursive: true);
    }

    static List<(string Pubsub, WakuMessage Message)> Messages(int count) =>
        Enumerable.Range(0, count).Select(i => (Pubsub, TempStore.Message("/app/1/chat/proto", Now - (count - i) * 1_000_000_000L, $"m{i}-" + new string('x', 200)))).ToList();

    static SyncScope Scope(SyncNode node) => new([Pubsub], node.Indexes.LocalScope.ContentTopics);

    SwarmBackfill Backfill(SyncNode filler, Dictionary<PeerId, SyncNode> peers) =>
        new(filler.Host, filler.Client, filler.Transfer, filler.Sessions, filler.Horizon, NullLogger.Instance)
        {
            ProgressDirectory = _progress,
            Extents = (peer, _, _) => Task.FromResult(ExtentsOf(peers[peer])),
        };

    static (long, long)? ExtentsOf(SyncNode node)
    {
        long? Edge(bool forward)
        {
            using var reader = node.Store.Store.OpenTimeIndex(Pubsub, forward ? long.MinValue : long.MaxValue, forward ? MessageHash.Zero : MessageHash.Max, forward);
            return reader.MoveNext() ? reader.Current.Timestamp : null;
        }
        return Edge(true) is { } oldest && Edge(false) is { } newest ? (oldest, newest) : null;
    }

    [Fact]
    public async Task An_empty_node_fills_from_three_peers_at_once_and_no_message_arrives_twice()
    {
        var all = Messages(3000);
        await using var a = await SyncNode.StartAsync(all);
        await using var b = await SyncNode.StartAsync(all.Take(1800));
        await using var c = await SyncNode.StartAsync(all.Skip(1200).Append((Pubsub, TempStore.Message("/app/1/chat/proto", Now - 5_000_000_000_000, "only-c"))));
        await using var filler = await SyncNode.StartAsync();
        var peers = new Dictionary<PeerId, SyncNode> { [a.PeerId] = a, [b.PeerId] = b, [c.PeerId] = c };
        foreach (var p in peers.Values) filler.Host.AddAddress(p.PeerId, p.Address);

        var report = await Backfill(filler, peers).RunAsync("test", Scope(filler), [.. peers.Keys], Timestamp.Now(), _timeout.Token);

        Assert.True(report.Finished);
        var union = SyncOverLibp2pTests.HashesOf(all);
        union.UnionWith(c.Hashes(Pubsub));
        Assert.Equal(union, filler.Hashes(Pubsub));
        // Every message arrived exactly once, whichever peer sent it; more than one peer sent some.
        var totals = peers.Keys.Select(filler.Transfer.TotalsOf).ToList();
        Assert.Equal(union.Count, totals.Sum(t => t.Received));
        Assert.Equal(union.Count, totals.Sum(t => t.Stored));
        Assert.True(totals.Count(t => t.Stored > 0) >= 2, string.Join(", ", totals));
        Assert.Equal(union.Count, report.Messages);
        Assert.False(File.Exists(BackfillProgressFile.PathOf(_progress, SwarmBackfill.KeyOf(Scope(filler)))), "a finished backfill leaves no progress file");
    }

    [Fact]
    public async Task Stopped_mid_way_and_started_again_it_resumes_from_its_progress_file_without_fetching_twice()
    {
        var all = Messages(4000);
        await using var a = await SyncNode.StartAsync(all);
        await using var b = await SyncNode.StartAsync(all);
        await using var filler = await SyncNode.StartAsync();
        var peers = new Dictionary<PeerId, SyncNode> { [a.PeerId] = a, [b.PeerId] = b };
        foreach (var p in peers.Values) filler.Host.AddAddress(p.PeerId, p.Address);

        // A graceful stop once 1000 messages are in: the running slices finish, no new one starts. Counted as they are stored,
        // not from the progress reports (every 250 ms): on an idle machine the whole fill can take less than one report.
        using var stop = new CancellationTokenSource();
        int fetched = 0;
        filler.Transfer.Fetched += (_, _, _) => { if (Interlocked.Increment(ref fetched) == 1000) stop.Cancel(); };
        var first = await Backfill(filler, peers).RunAsync("test", Scope(filler), [.. peers.Keys], Timestamp.Now(), _timeout.Token, stop.Token);
        Assert.False(first.Finished);
        long before = peers.Keys.Sum(p => filler.Transfer.TotalsOf(p).Received);
        Assert.InRange(before, 1, all.Count - 1);
        var progress = BackfillProgressFile.TryLoad(_progress, SwarmBackfill.KeyOf(Scope(filler)));
        Assert.NotNull(progress);
        Assert.Contains(progress.Done.Values, d => d.Count > 0);

        var second = await Backfill(filler, peers).RunAsync("test", Scope(filler), [.. peers.Keys], Timestamp.Now(), _timeout.Token);

        Assert.True(second.Finished);
        Assert.Equal(SyncOverLibp2pTests.HashesOf(all), filler.Hashes(Pubsub));
        Assert.Equal(all.Count, peers.Keys.Sum(p => filler.Transfer.TotalsOf(p).Received));
    }
}
