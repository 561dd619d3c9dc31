using StoreSync.Core;
using StoreSync.Reconciliation;
using StoreSync.Testing;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Sync;

namespace StoreSync.Waku.Tests;

/// <summary>Sync obeys the community policy: a scope that may not be synced is refused without penalty, and messages that may
/// not be synced are never pushed.</summary>
public sealed class SyncPolicyTests
{
    static readonly string Topic0 = SyncNode.Served[0], Topic1 = SyncNode.Served[1];
    const string Hidden = "/app/1/c2/proto";
    static readonly long Now = Timestamp.Now();

    /// <summary>Topic 1 may not be synced at all; on topic 0 the content topic <see cref="Hidden"/> may not be offered.</summary>
    sealed class Policy : ICommunityPolicy
    {
        public bool MayServe(string pubsubTopic, string contentTopic, out string reason) { reason = ""; return true; }
        public bool MaySync(string pubsubTopic, string contentTopic) => pubsubTopic == Topic0 && contentTopic != Hidden;
        public bool IsSyncable(SyncScope scope) => scope.PubsubTopics.Count > 0 && scope.PubsubTopics.All(p => p == Topic0);
        public IReadOnlyList<SyncScope> SyncScopes => [new SyncScope([Topic0], [])];
        public event Action? Changed { add { } remove { } }
    }

    [Theory]
    [InlineData(SyncModes.Native)]
    [InlineData(SyncModes.Nwaku)]
    public async Task A_scope_the_policy_refuses_ends_unpenalised_and_hidden_messages_are_not_pushed(SyncModes modes)
    {
        var rng = new Random(21);
        var onlyB0 = SyncOverLibp2pTests.Messages(rng, 60, Topic0, "b0");
        var onlyB1 = SyncOverLibp2pTests.Messages(rng, 10, Topic1, "b1");
        await using var a = await SyncNode.StartAsync(SyncOverLibp2pTests.Messages(rng, 5, Topic0, "a0"));
        await using var b = await SyncNode.StartAsync([.. onlyB0, .. onlyB1], policy: new Policy());
        a.Host.AddAddress(b.PeerId, b.Address);
        long start = Now - TimeSpan.FromDays(40).Ticks * 100;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var cancel = timeout.Token;

        var refused = await a.Client.SyncAsync(b.PeerId, new SyncScope([Topic1], []), start, Now + 1, modes, cancel);
        await Polling.WaitUntil(() => b.Ended.Count == 1, "b ended the refused session");
        Assert.False(refused!.Completed);
        Assert.StartsWith("refused", b.Ended[0].Error);
        Assert.Equal(0, b.Penalties.ScoreOf(a.PeerId));
        Assert.Empty(a.Hashes(Topic1));

        var allowed = await a.Client.SyncAsync(b.PeerId, new SyncScope([Topic0], []), start, Now + 1, modes, cancel);
        Assert.True(allowed!.Completed, allowed.Error);
        var visible = SyncOverLibp2pTests.HashesOf(onlyB0.Where(m => m.Message.ContentTopic != Hidden));
        Assert.NotEqual(visible.Count, onlyB0.Count); // some of b's messages are hidden
        await Polling.WaitUntil(() => b.Ended.Count == 2 && a.Hashes(Topic0).IsSupersetOf(visible), "the visible messages arrived");
        Assert.Equal(5 + visible.Count, a.Hashes(Topic0).Count);
        Assert.Equal(visible.Count, b.Ended[1].Pushed);
    }
}
