using System.Diagnostics.Metrics;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Reconciliation;
using StoreSync.Storage;
using StoreSync.Storage.Retention;
using StoreSync.Testing;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Sync;

namespace StoreSync.Waku.Tests;

/// <summary>Retention horizons in sync (spec/sync.md §4): two communities on one shard with different limits; sessions and transfers
/// judge each message by its own community's horizon, so one community's eviction never drops the other's history.</summary>
public sealed class SyncHorizonTests : IDisposable
{
    static readonly string Shard = SyncNode.Served[0];
    const string Alpha = "/alpha/1/chat/proto", Beta = "/beta/1/chat/proto";
    static readonly long Old = Timestamp.Now() - TimeSpan.FromDays(10).Ticks * 100;
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    CancellationToken Timeout => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    // alpha keeps its newest 50 messages, beta up to 10 000: alpha's horizon lies in the middle of beta's history.
    static RetentionConfiguration Retention => new([
        new ScopeRetention(RetentionScope.Of("alpha", [Shard], [Alpha]), [new CountRetentionPolicy(50)]),
        new ScopeRetention(RetentionScope.Of("beta", [Shard], [Beta]), [new CountRetentionPolicy(10_000)])]);

    // Beta's messages are a nanosecond older than alpha's, so beta's oldest is the last one pushed (newest first).
    static List<(string, WakuMessage)> History(string content, int offset) =>
        [.. Enumerable.Range(0, 100).Select(i => (Shard, TempStore.Message(content, Old + i * 1_000_000_000L - offset, $"{content} {i}")))];

    static readonly List<(string, WakuMessage)> AlphaHistory = History(Alpha, 0), BetaHistory = History(Beta, 1);

    /// <summary>A node that held alpha's 100 messages and evicted the 50 oldest, and a peer that holds both communities' history.</summary>
    async Task<(SyncNode Pruned, SyncNode Full)> StartPairAsync()
    {
        var pruned = await SyncNode.StartAsync(AlphaHistory, retention: Retention);
        Assert.Equal(50, pruned.Evictor!.Evict().Messages);
        Assert.Equal(AlphaHistory[49].Item2.Timestamp, pruned.Evictor.GetRetentionHorizon("alpha")!.Value.Timestamp);
        var full = await SyncNode.StartAsync([.. AlphaHistory, .. BetaHistory]);
        await pruned.Host.DialAsync(full.Address, Timeout);
        return (pruned, full);
    }

    [Theory]
    [InlineData(SyncModes.Native, true)]
    [InlineData(SyncModes.Native, false)]
    [InlineData(SyncModes.Nwaku, true)]
    [InlineData(SyncModes.Nwaku, false)]
    public async Task A_whole_shard_session_brings_the_other_community_s_history_and_not_what_one_community_evicted(SyncModes modes, bool prunedInitiates)
    {
        var (pruned, full) = await StartPairAsync();
        await using var _ = pruned;
        await using var __ = full;
        using var belowHorizon = new RejectionCounter(pruned.SyncMetrics, "below_horizon");
        var scope = new SyncScope([Shard], []);
        long start = Old - TimeSpan.FromDays(1).Ticks * 100, end = Timestamp.Now();

        var result = prunedInitiates
            ? await pruned.Client.SyncAsync(full.PeerId, scope, start, end, modes, Timeout)
            : await full.Client.SyncAsync(pruned.PeerId, scope, start, end, modes, Timeout);

        Assert.NotNull(result);
        Assert.True(result.Completed, result.Error);
        // The pruned side's range is not cut at alpha's horizon (that was the bug: beta's older half never came) ...
        var beta = SyncOverLibp2pTests.HashesOf(BetaHistory);
        await Polling.WaitUntil(() => beta.IsSubsetOf(pruned.Hashes(Shard)), "the pruned node holds beta's whole history");
        // ... and what alpha evicted on purpose, pushed because the range covers it, is dropped message by message.
        await Polling.WaitUntil(() => belowHorizon.Count == 50, $"50 of alpha's evicted messages refused (so far {belowHorizon.Count})");
        var kept = SyncOverLibp2pTests.HashesOf(AlphaHistory.Skip(50));
        Assert.True(pruned.Hashes(Shard).SetEquals([.. beta, .. kept]));
        Assert.Equal(0, pruned.Penalties.ScoreOf(full.PeerId));
        Assert.Empty(StoreIntegrity.Check(pruned.Store.Store));
    }

    [Fact]
    public async Task A_community_session_starts_at_its_own_horizon()
    {
        var (pruned, full) = await StartPairAsync();
        await using var _ = pruned;
        await using var __ = full;
        long start = Old - TimeSpan.FromDays(1).Ticks * 100, end = Timestamp.Now();

        // alpha's session starts after its horizon on both sides: the evicted half is not even announced.
        var alpha = await pruned.Client.SyncAsync(full.PeerId, new SyncScope([Shard], [Alpha]), start, end, SyncModes.Native, Timeout);
        Assert.NotNull(alpha);
        Assert.True(alpha.Completed, alpha.Error);
        Assert.Equal((0, 0), (alpha.ToSend, alpha.ToReceive));
        // beta's is not cut by alpha's horizon.
        var beta = await pruned.Client.SyncAsync(full.PeerId, new SyncScope([Shard], [Beta]), start, end, SyncModes.Native, Timeout);
        Assert.NotNull(beta);
        Assert.True(beta.Completed, beta.Error);
        Assert.Equal((0, 100), (beta.ToSend, beta.ToReceive));
        var expected = SyncOverLibp2pTests.HashesOf([.. BetaHistory, .. AlphaHistory.Skip(50)]);
        await Polling.WaitUntil(() => pruned.Hashes(Shard).SetEquals(expected), "the pruned node holds beta's history and alpha's kept half");

        // The peer, as initiator of alpha's scope, is answered from the pruned node's alpha horizon too.
        var reverse = await full.Client.SyncAsync(pruned.PeerId, new SyncScope([Shard], [Alpha]), start, end, SyncModes.Native, Timeout);
        Assert.NotNull(reverse);
        Assert.True(reverse.Completed, reverse.Error);
        Assert.Equal((0, 0), (reverse.ToSend, reverse.ToReceive));
    }

    /// <summary>Counts one node's pushed messages refused for one reason (its own instrument, whatever other tests run meanwhile).</summary>
    sealed class RejectionCounter : IDisposable
    {
        readonly MeterListener _listener = new();
        long _count;

        public RejectionCounter(SyncMetrics metrics, string reason)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument, metrics.TransferRejected)) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                    if (tag.Key == "reason" && Equals(tag.Value, reason)) Interlocked.Add(ref _count, value);
            });
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
