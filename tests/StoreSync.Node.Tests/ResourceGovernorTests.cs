using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StoreSync.Node.Governor;
using StoreSync.Node.Hosting;
using StoreSync.Waku.Governor;

namespace StoreSync.Node.Tests;

/// <summary>The governor's rules on a fake clock: which buckets traffic is charged to, the realtime yield, live limits and their persistence.</summary>
public sealed class ResourceGovernorTests : IDisposable
{
    const int KiB = 1024, MiB = 1 << 20;
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-governor-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    sealed class FixedCommunities(params CommunityTopics[] communities) : ICommunityTopics
    {
        public IReadOnlyList<CommunityTopics> Communities => communities;
    }

    static CommunityTopics Community(string name, string pubsub, params string[] content) =>
        new(name, new HashSet<string>([pubsub], StringComparer.Ordinal), content.Length == 0 ? null : new HashSet<string>(content, StringComparer.Ordinal));

    static readonly FixedCommunities Two = new(Community("chat", "/waku/2/rs/1/0", "/chat/1/a/proto", "/chat/1/b/proto"), Community("shard1", "/waku/2/rs/1/1"));

    static ResourceGovernor Governor(FakeTimeProvider clock, long globalUp = MiB, Dictionary<string, BandwidthLimitOptions>? perCommunity = null) =>
        new(new BandwidthLimitOptions { UploadBytesPerSecond = globalUp, DownloadBytesPerSecond = MiB }, perCommunity ?? [], 0.25, Two, clock);

    [Fact]
    public void History_is_charged_to_every_community_it_touches_and_to_the_node()
    {
        var governor = Governor(new FakeTimeProvider());
        Assert.Equal(2, governor.HistoryUpload(new TrafficScope("/waku/2/rs/1/0", ["/chat/1/a/proto"])).Buckets.Count);
        Assert.Equal(2, governor.HistoryUpload(new TrafficScope("/waku/2/rs/1/0", [])).Buckets.Count); // any content topic: touches chat
        Assert.Single(governor.HistoryUpload(new TrafficScope("/waku/2/rs/1/0", ["/other/1/x/proto"])).Buckets);
        Assert.Single(governor.HistoryUpload(TrafficScope.None).Buckets);
        var shard1 = governor.HistoryDownload(TrafficScope.Of("/waku/2/rs/1/1", "/anything/1/x/proto"));
        Assert.Same(governor.Community("shard1")!.Download, shard1.Buckets[0]);
        Assert.Same(governor.Global.Download, shard1.Buckets[1]);
    }

    [Fact]
    public async Task A_community_limit_paces_below_the_global_one()
    {
        var clock = new FakeTimeProvider();
        var governor = Governor(clock, perCommunity: new() { ["chat"] = new() { UploadBytesPerSecond = 64 * KiB } });
        var chain = governor.HistoryUpload(TrafficScope.Of("/waku/2/rs/1/0", "/chat/1/a/proto"));
        await chain.WaitAsync(16 * KiB, default); // the community's burst (16 KiB) goes at once
        var second = chain.WaitAsync(16 * KiB, default).AsTask();
        Assert.False(second.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(0.25)); // 16 KiB at 64 KiB/s
        await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(32 * KiB, governor.Community("chat")!.Upload.PacedBytes);
        Assert.Equal(32 * KiB, governor.Global.Upload.PacedBytes);
    }

    [Fact]
    public void Realtime_bytes_are_never_delayed_and_history_yields_to_them()
    {
        var clock = new FakeTimeProvider();
        var governor = Governor(clock);
        var history = governor.HistoryDownload(TrafficScope.Of("/waku/2/rs/1/1", "/x/1/y/proto"));
        governor.RealtimeIn(256 * KiB + 512 * KiB); // a burst of light pushes: the global bucket's burst plus half a second
        // History now waits for the realtime bytes: half a second, plus its own 16 KiB at 1 MiB/s.
        Assert.Equal(TimeSpan.FromSeconds(0.5) + TimeSpan.FromTicks(156_250), governor.Global.Download.Reserve(16 * KiB));
        Assert.Equal(768 * KiB, governor.Global.Download.RealtimeBytes);
        Assert.Equal(0, governor.Community("shard1")!.Download.RealtimeBytes); // realtime is charged to the node only
        Assert.NotNull(history);
    }

    [Fact]
    public void Cpu_is_booked_to_the_node_and_each_community_touched()
    {
        var governor = Governor(new FakeTimeProvider());
        governor.RecordCpu("store", TrafficScope.Of("/waku/2/rs/1/0", "/chat/1/b/proto"), 1500);
        governor.RecordCpu("store", TrafficScope.None, 500);
        Assert.Equal(2000, governor.Global.Cpu["store"]);
        Assert.Equal(1500, governor.Community("chat")!.Cpu["store"]);
        Assert.Empty(governor.Community("shard1")!.Cpu);
    }

    [Fact]
    public void Live_limits_persist_and_yield_to_a_configuration_changed_since()
    {
        var options = new NodeOptions { DataDir = _dir, UploadBytesPerSecond = MiB };
        var governor = new ResourceGovernor(options, Two, new FakeTimeProvider());
        var settings = new BandwidthSettings(options, governor, NullLogger<BandwidthSettings>.Instance);
        settings.Set(null, new BandwidthLimitOptions { UploadBytesPerSecond = 2 * MiB, DownloadBytesPerSecond = 3 * MiB });
        settings.Set("chat", new BandwidthLimitOptions { UploadBytesPerSecond = 64 * KiB });
        Assert.Equal(2 * MiB, governor.Global.Upload.BytesPerSecond);
        Assert.Equal(64 * KiB, governor.Community("chat")!.Upload.BytesPerSecond);
        Assert.Throws<ArgumentException>(() => settings.Set(null, new BandwidthLimitOptions { UploadBytesPerSecond = 5 }));

        // Restart with the same configuration: the live values stay in force.
        var again = new ResourceGovernor(options, Two, new FakeTimeProvider());
        new BandwidthSettings(options, again, NullLogger<BandwidthSettings>.Instance).Load();
        Assert.Equal(2 * MiB, again.Global.Upload.BytesPerSecond);
        Assert.Equal(3 * MiB, again.Global.Download.BytesPerSecond);
        Assert.Equal(64 * KiB, again.Community("chat")!.Upload.BytesPerSecond);

        // The operator edits the global limit in the configuration afterwards: the configuration wins there, not for chat.
        var edited = new NodeOptions { DataDir = _dir, UploadBytesPerSecond = 4 * MiB };
        var third = new ResourceGovernor(edited, Two, new FakeTimeProvider());
        new BandwidthSettings(edited, third, NullLogger<BandwidthSettings>.Instance).Load();
        Assert.Equal(4 * MiB, third.Global.Upload.BytesPerSecond);
        Assert.Equal(0, third.Global.Download.BytesPerSecond);
        Assert.Equal(64 * KiB, third.Community("chat")!.Upload.BytesPerSecond);
    }

    [Fact]
    public void A_damaged_settings_file_is_a_clear_error()
    {
        var options = new NodeOptions { DataDir = _dir };
        File.WriteAllText(Path.Combine(_dir, BandwidthSettings.FileName), "{ not json");
        var settings = new BandwidthSettings(options, new ResourceGovernor(options, Two), NullLogger<BandwidthSettings>.Instance);
        var e = Assert.Throws<InvalidDataException>(settings.Load);
        Assert.Contains(BandwidthSettings.FileName, e.Message);
    }

    [Fact]
    public void Bad_limits_in_the_configuration_are_named()
    {
        var errors = new NodeOptions { UploadBytesPerSecond = -1, DownloadBytesPerSecond = 100, BandwidthBurstSeconds = 0,
            CommunityBandwidth = { ["chat"] = new BandwidthLimitOptions { UploadBytesPerSecond = 1L << 50 } } }.Validate();
        Assert.Contains(errors, e => e.Contains("--upload-limit"));
        Assert.Contains(errors, e => e.Contains("--download-limit"));
        Assert.Contains(errors, e => e.Contains("BandwidthBurstSeconds"));
        Assert.Contains(errors, e => e.StartsWith("CommunityBandwidth:chat:"));
    }

    [Fact]
    public void The_traffic_series_keeps_per_second_deltas_oldest_first_and_bounded()
    {
        var series = new TrafficSeries();
        series.Sample(100);
        series.Sample(150);
        series.Sample(400);
        Assert.Equal([0, 50, 250], series.Snapshot());
        for (int i = 0; i < 2 * GovernorLimits.SamplesKept; i++) series.Sample(400 + i);
        Assert.Equal(GovernorLimits.SamplesKept, series.Snapshot().Length);
        Assert.All(series.Snapshot(), v => Assert.Equal(1, v));
    }
}
