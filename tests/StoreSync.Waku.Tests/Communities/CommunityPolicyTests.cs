using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Identity;
using StoreSync.Reconciliation;
using StoreSync.Storage.Query;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Waku.Tests.Communities;

/// <summary>Opt-in gating of ingest, queries and sync; the owner's switch and the authorship policy, with real keys and a real store.</summary>
public sealed class CommunityPolicyTests : IDisposable
{
    const string P0 = "/waku/2/rs/1/0", P1 = "/waku/2/rs/1/1";
    const string Chat = "/chat/1/room/proto", Other = "/other/1/room/proto";
    static readonly byte[] Owner = Secp256k1Signatures.GeneratePrivateKey();
    static readonly string OwnerHex = Convert.ToHexStringLower(Secp256k1Signatures.PublicKeyOf(Owner));

    readonly TempStore _store = new();
    readonly WakuMetrics _metrics = new();
    readonly CommunityPolicy _policy;
    readonly MessageIngress _ingress;
    long _clock = Timestamp.Now() - 1_000 * Timestamp.NanosPerSecond;

    public CommunityPolicyTests()
    {
        _policy = new CommunityPolicy(new Served(P0, P1));
        _ingress = new MessageIngress(_store.Store, MessageValidator.Default, new Served(P0, P1), _metrics, NullLogger<MessageIngress>.Instance, _policy);
    }

    public void Dispose()
    {
        _store.Dispose();
        _metrics.Dispose();
    }

    static CommunityDefinition Chatroom(bool optedIn = true, bool authorship = false) => new()
    {
        Name = "chat", PubsubTopics = [P0], ContentTopics = [Chat], OwnerKey = OwnerHex, OptedIn = optedIn, RequireAuthorSignature = authorship,
    };

    WakuMessage Message(string content, string text = "m") =>
        new() { Payload = ByteString.CopyFromUtf8(text), ContentTopic = content, Timestamp = _clock += 1000 };

    IngressResult Push(string pubsub, WakuMessage message) => _ingress.Accept(pubsub, message, source: "test");

    [Fact]
    public void Without_communities_everything_served_is_stored_served_and_synced()
    {
        Assert.True(Push(P0, Message(Other)).Accepted);
        Assert.True(_policy.MayServe(P0, Other, out _));
        Assert.Equal([SyncScope.All], _policy.SyncScopes);
        Assert.True(_policy.IsSyncable(SyncScope.All));
    }

    [Fact]
    public void Only_opted_in_communities_are_stored_and_unlisted_messages_follow_the_setting()
    {
        _policy.Configure([Chatroom(optedIn: false)], storeUnlisted: null);
        var refused = Push(P0, Message(Chat));
        Assert.Equal(IngressRejection.NotOptedIn, refused.Rejection);
        Assert.Contains("not opted in", refused.Error);
        Assert.Equal(1, _policy.CountersOf("chat").NotOptedIn);
        // Communities are defined, so by default a message of none of them is refused too.
        Assert.Equal(IngressRejection.NotInCommunity, Push(P0, Message(Other)).Rejection);
        Assert.Equal(0, _store.Store.GetStatistics().Messages);

        _policy.Configure([Chatroom(optedIn: true)], storeUnlisted: true);
        Assert.True(Push(P0, Message(Chat)).Accepted);
        Assert.True(Push(P0, Message(Other)).Accepted);
        _policy.Configure([Chatroom(optedIn: true)], storeUnlisted: false);
        Assert.Equal(IngressRejection.NotInCommunity, Push(P1, Message(Other)).Rejection);
        Assert.Equal(2, _store.Store.GetStatistics().Messages);
    }

    [Fact]
    public void A_community_not_opted_in_is_neither_served_nor_synced_and_a_query_for_it_gets_503()
    {
        _policy.Configure([Chatroom()], storeUnlisted: true);
        for (int i = 0; i < 5; i++) Assert.True(Push(P0, Message(Chat, $"c{i}")).Accepted);
        for (int i = 0; i < 3; i++) Assert.True(Push(P0, Message(Other, $"o{i}")).Accepted);
        _policy.Configure([Chatroom(optedIn: false)], storeUnlisted: true);

        Assert.False(_policy.MayServe(P0, Chat, out var reason));
        Assert.Contains("not opted in", reason);
        var byTopic = new StoreQueryRequest { RequestId = "q", PubsubTopic = P0, ContentTopics = { Chat }, IncludeData = true };
        Assert.StartsWith("SERVICE_UNAVAILABLE: community chat is not served", _policy.QueryRefusal(byTopic));
        Assert.Equal(1, _policy.CountersOf("chat").QueriesRefused);

        // A whole-topic query and a hash lookup answer as if the community's messages were not stored.
        var engine = new StoreQueryEngine(_store.Store);
        var whole = engine.Execute(new StoreQueryRequest { RequestId = "w", PubsubTopic = P0, IncludeData = true, PaginationForward = true }, _policy);
        Assert.Equal(200u, whole.StatusCode);
        Assert.Equal(3, whole.Messages.Count);
        Assert.All(whole.Messages, m => Assert.Equal(Other, m.Message.ContentTopic));
        Assert.Equal(8, engine.Execute(new StoreQueryRequest { RequestId = "a", PubsubTopic = P0, PaginationForward = true }).Messages.Count);
        var chatHash = StoredHashes(Chat)[0];
        var lookup = engine.Execute(new StoreQueryRequest { RequestId = "h", MessageHashes = { ByteString.CopyFrom(chatHash.ToArray()) } }, _policy);
        Assert.Empty(lookup.Messages);

        // Sync: the community's scope is not offered and a peer's session over the whole topic is refused.
        Assert.False(_policy.MaySync(P0, Chat));
        Assert.True(_policy.MaySync(P0, Other));
        Assert.False(_policy.IsSyncable(new SyncScope([P0], [])));
        Assert.True(_policy.IsSyncable(new SyncScope([P0], [Other])));
        Assert.Equal(2, _policy.CountersOf("chat").SyncRefused); // the refused transfer and the refused session
        Assert.DoesNotContain(_policy.SyncScopes, s => s.ContentTopics.Contains(Chat) || s.PubsubTopics.Contains(P0));
        Assert.Contains(new SyncScope([P1], []), _policy.SyncScopes);
    }

    List<MessageHash> StoredHashes(string contentTopic)
    {
        var page = new StoreQueryEngine(_store.Store).Execute(new StoreQueryRequest { RequestId = "x", PubsubTopic = P0, ContentTopics = { contentTopic }, PaginationForward = true });
        return [.. page.Messages.Select(m => MessageHash.Read(m.MessageHash.Span))];
    }

    [Fact]
    public void A_page_over_many_hidden_rows_ends_early_with_a_cursor_that_continues_the_walk()
    {
        _policy.Configure([Chatroom()], storeUnlisted: true);
        for (int i = 0; i < 30; i++) Assert.True(Push(P0, Message(Chat, $"c{i}")).Accepted);
        Assert.True(Push(P0, Message(Other, "after")).Accepted);
        _policy.Configure([Chatroom(optedIn: false)], storeUnlisted: true);
        var engine = new StoreQueryEngine(_store.Store, new StoreSync.Storage.Query.StoreQueryOptions { MaxHiddenRowsPerPage = 10 });
        var request = new StoreQueryRequest { RequestId = "w", PubsubTopic = P0, IncludeData = true, PaginationForward = true };
        var seen = new List<string>();
        for (int page = 0; page < 10; page++)
        {
            var response = engine.Execute(request, _policy);
            Assert.Equal(200u, response.StatusCode);
            seen.AddRange(response.Messages.Select(m => m.Message.Payload.ToStringUtf8()));
            if (!response.HasPaginationCursor) break;
            request.PaginationCursor = response.PaginationCursor;
        }
        Assert.Equal(["after"], seen);
    }

    [Fact]
    public void The_owners_signed_switch_stops_serving_and_syncing_and_the_newest_valid_one_wins()
    {
        _policy.Configure([Chatroom()], storeUnlisted: false);
        int changes = 0;
        _policy.Changed += () => changes++;
        var applied = new List<CommunityControl>();
        _policy.ControlApplied += applied.Add;
        Assert.True(Push(P0, Message(Chat)).Accepted);
        Assert.True(_policy.MayServe(P0, Chat, out _));
        var control = CommunityControl.ContentTopicFor(OwnerHex);
        Assert.Equal([new SyncScope([P0], [Chat, control])], _policy.SyncScopes);

        long t = _clock + 10_000;
        var off = CommunityControl.CreateSwitch(Owner, t, serving: false).ToMessage();
        Assert.True(Push(P0, off).Accepted); // stored: it spreads like any message
        Assert.False(_policy.MayServe(P0, Chat, out var reason));
        Assert.Contains("its owner switched serving off", reason);
        Assert.False(_policy.MaySync(P0, Chat));
        Assert.True(_policy.MayServe(P0, control, out _)); // the switch itself keeps being served and synced
        Assert.Equal([new SyncScope([P0], [control])], _policy.SyncScopes);
        Assert.Single(applied);
        Assert.True(changes >= 1);
        Assert.False(_policy.StateOf(Chatroom()).Serving);
        // Ingest goes on (a later switch-on finds no gap).
        Assert.True(Push(P0, Message(Chat)).Accepted);

        // An older switch-on is valid but stale; a wrongly signed or unsigned newer one is ignored and counted.
        Assert.True(Push(P0, CommunityControl.CreateSwitch(Owner, t - 1, serving: true).ToMessage()).Accepted);
        Assert.False(_policy.MayServe(P0, Chat, out _));
        Assert.Equal(1, _policy.CountersOf("chat").ControlStale);
        var forged = CommunityControl.CreateSwitch(Secp256k1Signatures.GeneratePrivateKey(), t + 5, serving: true).ToPayload();
        Secp256k1Signatures.PublicKeyOf(Owner).CopyTo(forged, 31);
        var forgedMessage = new WakuMessage { Payload = ByteString.CopyFrom(forged), ContentTopic = control, Timestamp = t + 5 };
        Assert.Equal(IngressRejection.ControlInvalid, Push(P0, forgedMessage).Rejection);
        var unsigned = new WakuMessage { Payload = ByteString.CopyFromUtf8("please serve again"), ContentTopic = control, Timestamp = t + 6 };
        Assert.Equal(IngressRejection.ControlInvalid, Push(P0, unsigned).Rejection);
        var mismatched = CommunityControl.CreateSwitch(Owner, t + 7, serving: true).ToMessage();
        mismatched.Timestamp = t + 8;
        Assert.Contains("differs from the message timestamp", Push(P0, mismatched).Error);
        Assert.Equal(3, _policy.CountersOf("chat").ControlInvalid);
        Assert.False(_policy.MayServe(P0, Chat, out _));

        // A newer valid switch-on turns serving back on.
        Assert.True(Push(P0, CommunityControl.CreateSwitch(Owner, t + 10, serving: true).ToMessage()).Accepted);
        Assert.True(_policy.MayServe(P0, Chat, out _));
        Assert.Equal(2, _policy.CountersOf("chat").ControlApplied);
        Assert.Equal(2, applied.Count);
    }

    [Fact]
    public void Persisted_controls_are_verified_again_when_restored()
    {
        var off = CommunityControl.CreateSwitch(Owner, _clock, serving: false);
        var restored = new CommunityPolicy(new Served(P0));
        restored.Configure([Chatroom()], null);
        var damaged = off.ToPayload();
        damaged[^3] ^= 0x40;
        Assert.False(restored.Restore(damaged, out var error));
        Assert.Contains("signature", error);
        Assert.True(restored.MayServe(P0, Chat, out _));
        Assert.True(restored.Restore(off.ToPayload(), out _));
        Assert.False(restored.MayServe(P0, Chat, out _));
    }

    [Fact]
    public void Authorship_policy_admits_the_owner_and_authorised_members_only()
    {
        _policy.Configure([Chatroom(authorship: true)], storeUnlisted: false);
        var member = Secp256k1Signatures.GeneratePrivateKey();
        var stranger = Secp256k1Signatures.GeneratePrivateKey();
        WakuMessage Signed(byte[] key)
        {
            var m = Message(Chat, Guid.NewGuid().ToString());
            AuthorSignature.Sign(key, P0, m);
            return m;
        }

        var unsigned = Push(P0, Message(Chat));
        Assert.Equal(IngressRejection.Unauthorised, unsigned.Rejection);
        Assert.Contains("requires an author signature", unsigned.Error);
        Assert.True(Push(P0, Signed(Owner)).Accepted);
        Assert.Equal(IngressRejection.Unauthorised, Push(P0, Signed(member)).Rejection);

        Assert.True(Push(P0, CommunityControl.CreateMembers(Owner, _clock += 1000, [Secp256k1Signatures.PublicKeyOf(member)]).ToMessage()).Accepted);
        Assert.Equal(1, _policy.StateOf(Chatroom()).Members);
        Assert.True(Push(P0, Signed(member)).Accepted);
        var refused = Push(P0, Signed(stranger));
        Assert.Equal(IngressRejection.Unauthorised, refused.Rejection);
        Assert.Contains("neither the owner nor in the owner's member list", refused.Error);

        // A signature made for another topic does not transfer; a later list without the member revokes it.
        var moved = Signed(member);
        AuthorSignature.Sign(member, P1, moved);
        Assert.Equal(IngressRejection.Unauthorised, Push(P0, moved).Rejection);
        Assert.True(Push(P0, CommunityControl.CreateMembers(Owner, _clock += 1000, []).ToMessage()).Accepted);
        Assert.Equal(IngressRejection.Unauthorised, Push(P0, Signed(member)).Rejection);
        Assert.Equal(5, _policy.CountersOf("chat").Unauthorised);
    }

    [Fact]
    public void Overlapping_communities_keep_messages_and_a_switched_off_one_hides_what_it_holds()
    {
        var whole = new CommunityDefinition { Name = "shard", PubsubTopics = [P0] };
        _policy.Configure([whole, Chatroom(optedIn: false)], storeUnlisted: false);
        Assert.True(Push(P0, Message(Chat)).Accepted); // "shard" is opted in and holds it
        Assert.True(_policy.StoredByAnother("chat", P0, Chat));
        Assert.True(_policy.MayServe(P0, Chat, out _));
        Assert.False(_policy.IsSyncable(new SyncScope([P0], []))); // "chat" is hidden inside P0

        _policy.Configure([whole, Chatroom(optedIn: true)], storeUnlisted: false);
        Assert.True(_policy.IsSyncable(new SyncScope([P0], [])));
        Assert.True(Push(P0, CommunityControl.CreateSwitch(Owner, _clock += 1000, serving: false).ToMessage()).Accepted);
        Assert.False(_policy.MayServe(P0, Chat, out _));
        Assert.True(_policy.MayServe(P0, Other, out _));
        Assert.All(_policy.SyncScopes, s => Assert.True(_policy.IsSyncable(s)));
    }

    [Fact]
    public void Definitions_are_validated_as_a_set_with_clear_errors()
    {
        Assert.Contains("PubsubTopics is empty", Assert.Throws<ArgumentException>(() => _policy.Configure([new CommunityDefinition { Name = "x" }], null)).Message);
        Assert.Contains("used 2 times", Assert.Throws<ArgumentException>(() => _policy.Configure([Chatroom(), Chatroom()], null)).Message);
        Assert.Contains("one owner key identifies one community", Assert.Throws<ArgumentException>(() =>
            _policy.Configure([Chatroom(), Chatroom() with { Name = "chat2" }], null)).Message);
        var errors = new CommunityDefinition
        {
            Name = "Bad Name", PubsubTopics = ["/nope"], ContentTopics = ["bad"], OwnerKey = "05" + new string('1', 64), MaxBytes = -1, Priority = 5000,
        }.Validate();
        Assert.Contains(errors, e => e.Contains("community name 'Bad Name'"));
        Assert.Contains(errors, e => e.Contains("PubsubTopics"));
        Assert.Contains(errors, e => e.Contains("ContentTopics"));
        Assert.Contains(errors, e => e.Contains("OwnerKey"));
        Assert.Contains(errors, e => e.Contains("MaxBytes"));
        Assert.Contains(errors, e => e.Contains("Priority"));
        Assert.Contains("needs an OwnerKey", string.Join(";", (Chatroom(authorship: true) with { OwnerKey = null }).Validate()));
        Assert.Empty(_policy.Communities);
    }

    sealed class Served(params string[] topics) : IServedTopics
    {
        public bool Serves(string pubsubTopic) => topics.Contains(pubsubTopic);
        public IReadOnlyCollection<string> PubsubTopics => topics;
    }
}
