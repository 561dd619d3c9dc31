using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Identity;
using StoreSync.Waku.Communities;
using StoreSync.Waku.LightPush;
using StoreSync.Waku.Peers;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Waku.Tests.Communities;

/// <summary>Light push and Store v3 over real libp2p connections with a community policy: status codes, authorship, penalties.</summary>
public sealed class CommunityOverLibp2pTests : IDisposable
{
    const string P0 = "/waku/2/rs/1/0", Chat = "/chat/1/room/proto";
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    CancellationToken Timeout => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    async Task<LightpushResponse> Push(WakuNodeFixture node, WakuMessage message) =>
        LightpushResponse.Parser.ParseFrom(await node.RoundTripAsync(LightPushServer.ProtocolIdV3, new LightpushRequest { RequestId = "r", PubsubTopic = P0, Message = message }, Timeout));

    static WakuMessage Chatter(string text) => new() { Payload = ByteString.CopyFromUtf8(text), ContentTopic = Chat, Timestamp = Timestamp.Now() };

    [Fact]
    public async Task Authorship_and_opt_in_decide_light_push_and_store_answers()
    {
        var owner = Secp256k1Signatures.GeneratePrivateKey();
        var policy = new CommunityPolicy(WakuNodeFixture.ServedTopics);
        var community = new CommunityDefinition
        {
            Name = "chat", PubsubTopics = [P0], ContentTopics = [Chat], OwnerKey = Convert.ToHexStringLower(Secp256k1Signatures.PublicKeyOf(owner)),
            RequireAuthorSignature = true,
        };
        policy.Configure([community], storeUnlisted: false);
        await using var node = await WakuNodeFixture.StartAsync(communities: policy);

        var unsigned = await Push(node, Chatter("unsigned"));
        Assert.Equal(WakuStatus.InvalidMessage, unsigned.StatusCode);
        Assert.Contains("requires an author signature", unsigned.StatusDesc);
        var signed = Chatter("signed");
        AuthorSignature.Sign(owner, P0, signed);
        Assert.Equal(WakuStatus.Success, (await Push(node, signed)).StatusCode);
        var elsewhere = Chatter("no community");
        elsewhere.ContentTopic = "/other/1/x/proto";
        Assert.Equal(WakuStatus.UnsupportedPubsubTopic, (await Push(node, elsewhere)).StatusCode);

        var query = new StoreQueryRequest { RequestId = "q", PubsubTopic = P0, ContentTopics = { Chat }, IncludeData = true };
        var page = StoreQueryResponse.Parser.ParseFrom(await node.RoundTripAsync(StoreQueryServer.ProtocolId, query, Timeout));
        Assert.Equal(WakuStatus.Success, page.StatusCode);
        Assert.Equal("signed", Assert.Single(page.Messages).Message.Payload.ToStringUtf8());

        policy.Configure([community with { OptedIn = false }], storeUnlisted: false);
        var refused = StoreQueryResponse.Parser.ParseFrom(await node.RoundTripAsync(StoreQueryServer.ProtocolId, query, Timeout));
        Assert.Equal((WakuStatus.ServiceUnavailable, "q"), (refused.StatusCode, refused.RequestId));
        Assert.Contains("community chat is not served", refused.StatusDesc);
        Assert.Empty(refused.Messages);
        Assert.Equal(WakuStatus.UnsupportedPubsubTopic, (await Push(node, Chatter("after opt-out"))).StatusCode);
    }

    [Fact]
    public async Task A_peer_that_keeps_pushing_bad_messages_is_disconnected_and_refused()
    {
        var penalties = new PeerPenalties(threshold: 5, forgiveInterval: TimeSpan.FromHours(1));
        await using var node = await WakuNodeFixture.StartAsync(penalties: penalties);
        var disconnected = new TaskCompletionSource<string>();
        var clientSaw = new TaskCompletionSource();
        node.Server.PeerDisconnected += (_, reason) => disconnected.TrySetResult(reason);
        node.Client.PeerDisconnected += (_, _) => clientSaw.TrySetResult();
        for (int i = 0; i < 5; i++)
        {
            var bad = Chatter($"bad {i}");
            bad.ContentTopic = "not a topic";
            Assert.Equal(WakuStatus.InvalidMessage, (await Push(node, bad)).StatusCode);
        }
        Assert.Contains("penalised", await disconnected.Task.WaitAsync(Timeout));
        string peer = node.Client.PeerId.ToString();
        Assert.True(penalties.IsRefused(peer));
        Assert.Equal(1, penalties.Disconnects);

        // It may reconnect (once it has seen the close), but its pushes are refused until its points decay.
        await clientSaw.Task.WaitAsync(Timeout);
        var refused = await Push(node, Chatter("good now"));
        Assert.Equal(WakuStatus.TooManyRequests, refused.StatusCode);
        Assert.Contains("too many bad messages", refused.StatusDesc);
        Assert.Equal(0, node.Store.Store.GetStatistics().Messages);
    }

    [Fact]
    public void Penalty_points_decay_and_honest_refusals_cost_nothing()
    {
        var clock = new ManualClock();
        var penalties = new PeerPenalties(threshold: 3, forgiveInterval: TimeSpan.FromMinutes(1), clock);
        Assert.Equal(0, PeerPenalties.PointsFor(Ingress.IngressRejection.NotOptedIn));
        Assert.Equal(0, PeerPenalties.PointsFor(Ingress.IngressRejection.UnservedTopic));
        Assert.Equal(PeerPenalties.DefaultThreshold, PeerPenalties.PointsFor(Ingress.IngressRejection.HashMismatch));
        Assert.False(penalties.Penalise("a", 2));
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, penalties.PointsOf("a"));
        Assert.False(penalties.Penalise("a", 2));
        Assert.True(penalties.Penalise("a", 1));
        Assert.False(penalties.Penalise("a", 1)); // reported once
        Assert.True(penalties.IsRefused("a"));
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.False(penalties.IsRefused("a"));
    }

    sealed class ManualClock : TimeProvider
    {
        long _ticks;
        public override long GetTimestamp() => _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
