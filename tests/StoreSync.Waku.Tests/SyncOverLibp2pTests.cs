using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;
using StoreSync.Storage;
using StoreSync.Testing;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Sync;

namespace StoreSync.Waku.Tests;

/// <summary>Two real hosts over loopback with real RocksDB stores reconcile in both modes and end with the union, exchanging exactly the difference.</summary>
public sealed class SyncOverLibp2pTests : IDisposable
{
    static readonly string Topic0 = SyncNode.Served[0], Topic1 = SyncNode.Served[1];
    static readonly long Now = Timestamp.Now();
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    CancellationToken Timeout => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    internal static List<(string Pubsub, WakuMessage Message)> Messages(Random rng, int count, string pubsub, string tag) =>
        Enumerable.Range(0, count).Select(i => (pubsub, TempStore.Message($"/app/1/c{rng.Next(3)}/proto",
            Now - rng.NextInt64(TimeSpan.FromDays(30).Ticks * 100), $"{tag}-{i}-{rng.Next()}"))).ToList();

    internal static HashSet<MessageHash> HashesOf(IEnumerable<(string Pubsub, WakuMessage Message)> messages) =>
        messages.Select(m => MessageHash.Compute(m.Pubsub, m.Message)).ToHashSet();

    [Theory]
    [InlineData(SyncModes.Native, "native")]
    [InlineData(SyncModes.Nwaku, "nwaku")]
    public async Task Both_end_with_the_union_and_exchange_exactly_the_difference(SyncModes modes, string expectedMode)
    {
        var rng = new Random(expectedMode.Length);
        var shared = Messages(rng, 400, Topic0, "shared");
        var onlyA = Messages(rng, 40, Topic0, "a");
        var onlyB = Messages(rng, 25, Topic0, "b");
        var otherTopicA = Messages(rng, 10, Topic1, "a1");
        // Part of each side is in the store before the index is built, the rest arrives afterwards (the live path).
        await using var a = await SyncNode.StartAsync([.. shared.Take(300), .. onlyA.Take(20), .. otherTopicA]);
        await using var b = await SyncNode.StartAsync([.. shared.Skip(100), .. onlyB.Take(5)]);
        a.Ingest([.. shared.Skip(300), .. onlyA.Skip(20)]);
        b.Ingest([.. shared.Take(100), .. onlyB.Skip(5)]);
        await a.Host.DialAsync(b.Address, Timeout);

        var result = await a.Client.SyncAsync(b.PeerId, new SyncScope([Topic0], []), Now - TimeSpan.FromDays(40).Ticks * 100, Now + 1, modes, Timeout);

        Assert.NotNull(result);
        Assert.Equal(expectedMode, result.Mode.Name());
        Assert.True(result.Completed, result.Error);
        Assert.Equal(onlyA.Count, result.ToSend);
        Assert.Equal(onlyA.Count, result.Pushed);
        var union = HashesOf([.. shared, .. onlyA, .. onlyB]);
        await Polling.WaitUntil(() => a.Hashes(Topic0).SetEquals(union) && b.Hashes(Topic0).SetEquals(union), "both stores hold the union");
        await Polling.WaitUntil(() => b.Ended.Count == 1, "the responder's session ended");
        var responder = b.Ended[0];
        Assert.Equal(onlyB.Count, responder.ToSend);
        Assert.Equal(onlyB.Count, responder.Pushed);
        if (expectedMode == "native")
        {
            // Native mode tells both sides the whole symmetric difference.
            Assert.Equal(onlyB.Count, result.ToReceive);
            Assert.Equal(onlyA.Count, responder.ToReceive);
        }
        else
        {
            // nwaku mode: the side with nothing in a range is never told what it will receive (spec/sync.md §2.1).
            Assert.InRange(result.ToReceive, 0, onlyB.Count);
            Assert.InRange(responder.ToReceive, 0, onlyA.Count);
        }
        Assert.Equal(HashesOf(otherTopicA), a.Hashes(Topic1)); // another scope is not touched
        Assert.Empty(b.Hashes(Topic1));

        // The live indexes agree with each other and with an index built afresh from each store.
        var all = (SyncItem.MinValue, SyncItem.MaxValue);
        Assert.Equal(a.Indexes[Topic0].GetFingerprint(all.MinValue, all.MaxValue), b.Indexes[Topic0].GetFingerprint(all.MinValue, all.MaxValue));
        Assert.Equal(FingerprintIndex.Build(a.Store.Store.SyncItems(new SyncScope([Topic0], []))).GetFingerprint(all.MinValue, all.MaxValue),
            a.Indexes[Topic0].GetFingerprint(all.MinValue, all.MaxValue));
        Assert.Empty(StoreIntegrity.Check(a.Store.Store));
        Assert.Empty(StoreIntegrity.Check(b.Store.Store));

        // A second session finds nothing left to do.
        var again = await a.Client.SyncAsync(b.PeerId, new SyncScope([Topic0], []), Now - TimeSpan.FromDays(40).Ticks * 100, Now + 1, modes, Timeout);
        Assert.NotNull(again);
        Assert.Equal((0, 0), (again.ToSend, again.ToReceive));
        Assert.Equal(1, again.RoundTrips);
    }

    [Fact]
    public async Task Native_is_proposed_first_and_nwaku_is_the_fallback()
    {
        var rng = new Random(3);
        await using var a = await SyncNode.StartAsync(Messages(rng, 50, Topic0, "a"));
        await using var nwakuOnly = await SyncNode.StartAsync(Messages(rng, 50, Topic0, "b"), protocols: ["nwaku"]);
        await using var native = await SyncNode.StartAsync(Messages(rng, 50, Topic0, "c"));
        var scope = new SyncScope([Topic0], []);
        long start = Now - TimeSpan.FromDays(40).Ticks * 100;

        var viaNwaku = await a.Client.SyncAsync(nwakuOnly.PeerId, scope, start, Now + 1, SyncModes.Any, TimeoutOn(a, nwakuOnly));
        await Polling.WaitUntil(() => a.Hashes(Topic0).Count == 100, "the nwaku-mode peer's pushes arrived");
        var viaNative = await a.Client.SyncAsync(native.PeerId, scope, start, Now + 1, SyncModes.Any, TimeoutOn(a, native));

        Assert.Equal("nwaku", viaNwaku!.Mode.Name());
        Assert.Equal("native", viaNative!.Mode.Name());
        await Polling.WaitUntil(() => nwakuOnly.Hashes(Topic0).Count == 100 && native.Hashes(Topic0).Count == 150 && a.Hashes(Topic0).Count == 150, "all transfers arrived");
    }

    [Theory]
    [InlineData("native", NativeReconciliation.ProtocolId)]
    [InlineData("native3", NativeReconciliation.ProtocolIdV3)]
    [InlineData("native2", NativeReconciliation.ProtocolIdV2)]
    public async Task Each_native_version_a_peer_serves_is_negotiated_and_reconciles_both_ways(string serves, string expected)
    {
        // 4.0.0 is proposed first, then 3.0.0, then 2.0.0: a peer serving only the older ones (StoreSync before the count-only
        // Open, before the Closing entry) takes the newest it knows, and the session runs that version's frames on both sides;
        // the Open here is large enough (3,000 items) to be sent cut into slices, a Counts entry only in 4.0.0.
        var rng = new Random(7);
        var shared = Messages(rng, 3000, Topic0, "s");
        await using var a = await SyncNode.StartAsync([.. shared, .. Messages(rng, 60, Topic0, "a")]);
        await using var peer = await SyncNode.StartAsync([.. shared, .. Messages(rng, 40, Topic0, "b")], protocols: [serves, "nwaku"]);
        var scope = new SyncScope([Topic0], []);
        long start = Now - TimeSpan.FromDays(40).Ticks * 100;

        var result = await a.Client.SyncAsync(peer.PeerId, scope, start, Now + 1, SyncModes.Any, TimeoutOn(a, peer));

        Assert.Equal("native", result!.Mode.Name());
        Assert.Equal(expected, result.Protocol);
        Assert.True(result.Completed, result.Error);
        await Polling.WaitUntil(() => peer.Ended.Count == 1, "the peer ended its side");
        Assert.Equal(expected, peer.Ended[0].Protocol);
        Assert.True(peer.Ended[0].Completed, peer.Ended[0].Error);
        await Polling.WaitUntil(() => a.Hashes(Topic0).Count == 3100 && peer.Hashes(Topic0).Count == 3100, "both hold the union");
    }

    [Fact]
    public async Task A_peer_serving_only_native_2_0_0_is_synced_in_native_mode_version_2()
    {
        // 4.0.0 and 3.0.0 are proposed first; a peer that serves only 2.0.0 (StoreSync before the Closing entry) takes the last
        // native proposal, and the session runs version 2 (no Closing entries) rather than falling back to nwaku mode.
        var rng = new Random(5);
        await using var a = await SyncNode.StartAsync(Messages(rng, 60, Topic0, "a"));
        await using var old = await SyncNode.StartAsync(Messages(rng, 40, Topic0, "b"), protocols: ["native2", "nwaku"]);
        var scope = new SyncScope([Topic0], []);
        long start = Now - TimeSpan.FromDays(40).Ticks * 100;

        var result = await a.Client.SyncAsync(old.PeerId, scope, start, Now + 1, SyncModes.Any, TimeoutOn(a, old));

        Assert.Equal("native", result!.Mode.Name());
        Assert.True(result.Completed, result.Error);
        await Polling.WaitUntil(() => a.Hashes(Topic0).Count == 100 && old.Hashes(Topic0).Count == 100, "both hold the union");
    }

    CancellationToken TimeoutOn(SyncNode from, SyncNode to)
    {
        from.Host.AddAddress(to.PeerId, to.Address);
        return Timeout;
    }

    [Theory]
    [InlineData(SyncModes.Native)]
    [InlineData(SyncModes.Nwaku)]
    public async Task A_scope_of_several_pubsub_topics_reconciles_all_of_them(SyncModes modes)
    {
        var rng = new Random(11);
        var shared = Messages(rng, 200, Topic0, "s0").Concat(Messages(rng, 200, Topic1, "s1")).ToList();
        var onlyA = Messages(rng, 15, Topic0, "a0").Concat(Messages(rng, 15, Topic1, "a1")).ToList();
        var onlyB = Messages(rng, 7, Topic1, "b1");
        await using var a = await SyncNode.StartAsync([.. shared, .. onlyA]);
        await using var b = await SyncNode.StartAsync([.. shared, .. onlyB]);
        a.Host.AddAddress(b.PeerId, b.Address);

        var result = await a.Client.SyncAsync(b.PeerId, new SyncScope(SyncNode.Served, []), Now - TimeSpan.FromDays(40).Ticks * 100, Now + 1, modes, Timeout);

        Assert.True(result!.Completed, result.Error);
        Assert.Equal(30, result.ToSend);
        foreach (var topic in SyncNode.Served)
        {
            var union = HashesOf(shared.Concat(onlyA).Concat(onlyB).Where(m => m.Pubsub == topic));
            await Polling.WaitUntil(() => a.Hashes(topic).SetEquals(union) && b.Hashes(topic).SetEquals(union), $"{topic} converged");
        }
    }

    [Theory]
    [InlineData(SyncModes.Native)]
    [InlineData(SyncModes.Nwaku)]
    public async Task A_community_scope_is_reconciled_from_its_live_indexes_and_never_read_into_memory_per_session(SyncModes modes)
    {
        var rng = new Random(17);
        // A per-session read of more than 50 messages is refused: a community scope of ~600 can only be answered from its indexes.
        var limits = SyncNetworkLimits.Default with { MaxAdHocScopeItems = 50 };
        var shared = Messages(rng, 600, Topic0, "s0").Concat(Messages(rng, 300, Topic1, "s1")).ToList();
        var onlyA = Messages(rng, 30, Topic0, "a0").Concat(Messages(rng, 30, Topic1, "a1")).ToList();
        var onlyB = Messages(rng, 40, Topic1, "b1");
        var community = new SyncScope(SyncNode.Served, ["/app/1/c0/proto", "/app/1/c1/proto"]);
        bool InCommunity((string Pubsub, WakuMessage Message) m) => community.ContentTopics.Contains(m.Message.ContentTopic);
        await using var a = await SyncNode.StartAsync([.. shared, .. onlyA], limits: limits);
        await using var b = await SyncNode.StartAsync([.. shared, .. onlyB], limits: limits);
        Assert.Throws<SyncProtocolException>(() => a.Indexes.SourceFor(community)); // untracked: it would be read per session
        Assert.True(a.Indexes.Track(community));
        Assert.True(b.Indexes.Track(community));
        a.Ingest(Messages(rng, 20, Topic0, "a-live")); // live after tracking, on both sides
        b.Ingest(Messages(rng, 20, Topic0, "b-live"));
        a.Host.AddAddress(b.PeerId, b.Address);

        var result = await a.Client.SyncAsync(b.PeerId, community, Now - TimeSpan.FromDays(40).Ticks * 100, Now + 1, modes, Timeout);

        Assert.True(result!.Completed, result.Error);
        foreach (var topic in SyncNode.Served)
        {
            HashSet<MessageHash> InScope(SyncNode n) => [.. n.Hashes(topic).Where(h => n.Store.Store.TryGet(h, out var m) && community.ContentTopics.Contains(m.Message.ContentTopic))];
            await Polling.WaitUntil(() => InScope(a).SetEquals(InScope(b)), $"{topic}: the community's messages converged");
        }
        var expected = HashesOf(onlyA.Concat(onlyB).Where(InCommunity));
        Assert.True(expected.IsSubsetOf(a.Hashes(Topic0).Concat(a.Hashes(Topic1)).ToHashSet()));
        Assert.True(expected.IsSubsetOf(b.Hashes(Topic0).Concat(b.Hashes(Topic1)).ToHashSet()));
        // Outside the community nothing moved.
        Assert.DoesNotContain(onlyB.Where(m => !InCommunity(m)).Select(m => MessageHash.Compute(m.Pubsub, m.Message)), a.Hashes(Topic1).Contains);
        Assert.All(new[] { a, b }, n => Assert.DoesNotContain(n.Ended, e => e.Error is not null));
    }

    [Fact]
    public async Task Whole_history_and_an_empty_side_converge_in_one_native_session()
    {
        var rng = new Random(17);
        var history = Messages(rng, 2_000, Topic0, "h");
        await using var full = await SyncNode.StartAsync(history);
        await using var empty = await SyncNode.StartAsync();
        empty.Host.AddAddress(full.PeerId, full.Address);

        var result = await empty.Client.SyncAsync(full.PeerId, new SyncScope([Topic0], []), long.MinValue + 1, Now + 1, SyncModes.Native, Timeout);

        Assert.True(result!.Completed, result.Error);
        Assert.Equal(2_000, result.ToReceive);
        await Polling.WaitUntil(() => empty.Hashes(Topic0).SetEquals(HashesOf(history)), "the empty node received the whole history");
        Assert.Equal(2_000, empty.Indexes[Topic0].Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_side_that_lacks_the_newest_messages_is_told_only_their_number_and_accepts_their_pushes(bool lackerInitiates)
    {
        // B lacks A's newest 600 of 2,000: native mode answers the ranges B holds nothing of with "Missing, k" (a few bytes)
        // instead of listing them, and B accepts A's pushes there by range (spec/sync.md §3.2 rule 1, §5.3), either role.
        var rng = new Random(18);
        var history = Messages(rng, 2_000, Topic0, "h").OrderBy(m => m.Message.Timestamp).ToList();
        await using var a = await SyncNode.StartAsync(history);
        await using var b = await SyncNode.StartAsync(history.Take(1_400));
        var (initiator, responder) = lackerInitiates ? (b, a) : (a, b);
        initiator.Host.AddAddress(responder.PeerId, responder.Address);

        var result = await initiator.Client.SyncAsync(responder.PeerId, new SyncScope([Topic0], []), long.MinValue + 1, Now + 1, SyncModes.Native, Timeout);

        Assert.True(result!.Completed, result.Error);
        Assert.Equal(lackerInitiates ? 0 : 600, result.ToSend);
        Assert.True(result.BytesSent + result.BytesReceived <= 4096, $"{result.BytesSent} + {result.BytesReceived} bytes of reconciliation");
        await Polling.WaitUntil(() => b.Hashes(Topic0).SetEquals(HashesOf(history)), "B received the newest messages");
        await Polling.WaitUntil(() => responder.Ended.Count == 1, "the responder's session ended");
        var lacker = lackerInitiates ? result : responder.Ended[0];
        Assert.Equal(600, lacker.ToReceive); // counted, not listed
        Assert.Equal(0, a.Penalties.PointsOf(b.PeerId.ToString()) + b.Penalties.PointsOf(a.PeerId.ToString())); // no push was refused as unannounced
    }
}
