using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Identity;
using StoreSync.Waku.Communities;
using StoreSync.Waku.LightPush;
using StoreSync.Waku.Store;

namespace StoreSync.Waku.Tests.Communities;

/// <summary>Light push and Store v3 over real libp2p connections with a community policy: status codes, authorship, opt-in.</summary>
public class CommunityOverLibp2pTests
{
    const string P0 = "/waku/2/rs/1/0", Chat = "/chat/1/room/proto";
    static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    static async Task<byte[]> RoundTrip(WakuNodeFixture node, string protocol, IMessage request)
    {
        await using var stream = await node.Client.NewStreamAsync(node.Address, protocol, Timeout);
        await LengthPrefixed.WriteAsync(stream, request.ToByteArray(), Timeout);
        await stream.CloseWriteAsync(Timeout);
        return await LengthPrefixed.ReadAsync(stream, 1 << 20, Timeout);
    }

    static async Task<LightpushResponse> Push(WakuNodeFixture node, WakuMessage message) =>
        LightpushResponse.Parser.ParseFrom(await RoundTrip(node, LightPushServer.ProtocolIdV3, new LightpushRequest { RequestId = "r", PubsubTopic = P0, Message = message }));

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
        Assert.Equal(LightPushStatus.InvalidMessage, unsigned.StatusCode);
        Assert.Contains("requires an author signature", unsigned.StatusDesc);
        var signed = Chatter("signed");
        AuthorSignature.Sign(owner, P0, signed);
        Assert.Equal(LightPushStatus.Success, (await Push(node, signed)).StatusCode);
        var elsewhere = Chatter("no community");
        elsewhere.ContentTopic = "/other/1/x/proto";
        Assert.Equal(LightPushStatus.UnsupportedPubsubTopic, (await Push(node, elsewhere)).StatusCode);

        var query = new StoreQueryRequest { RequestId = "q", PubsubTopic = P0, ContentTopics = { Chat }, IncludeData = true };
        var page = StoreQueryResponse.Parser.ParseFrom(await RoundTrip(node, StoreQueryServer.ProtocolId, query));
        Assert.Equal(StoreStatus.Success, page.StatusCode);
        Assert.Equal("signed", Assert.Single(page.Messages).Message.Payload.ToStringUtf8());

        policy.Configure([community with { OptedIn = false }], storeUnlisted: false);
        var refused = StoreQueryResponse.Parser.ParseFrom(await RoundTrip(node, StoreQueryServer.ProtocolId, query));
        Assert.Equal((StoreStatus.ServiceUnavailable, "q"), (refused.StatusCode, refused.RequestId));
        Assert.Contains("community chat is not served", refused.StatusDesc);
        Assert.Empty(refused.Messages);
        Assert.Equal(LightPushStatus.UnsupportedPubsubTopic, (await Push(node, Chatter("after opt-out"))).StatusCode);
    }
}
