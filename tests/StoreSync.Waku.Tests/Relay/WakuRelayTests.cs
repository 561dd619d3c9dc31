using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Pubsub;
using StoreSync.Storage;
using StoreSync.Testing;
using StoreSync.Testing.Pubsub;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Relay;
using static StoreSync.Waku.Tests.Relay.RelayTestNode;

namespace StoreSync.Waku.Tests.Relay;

/// <summary>Waku relay's rules over an in-memory router: message ids, verdicts, what is stored and forwarded, group commit.</summary>
public sealed class WakuRelayTests : IDisposable
{
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    CancellationToken Timeout => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    static WakuMessage Fresh(string payload, string contentTopic = "/app/1/chat/proto") => new()
    {
        Payload = ByteString.CopyFromUtf8(payload), ContentTopic = contentTopic, Timestamp = Timestamp.Now(),
    };

    static byte[] WellFormedProof()
    {
        var proof = new List<byte>();
        for (int field = 1; field <= 7; field++)
        {
            proof.Add((byte)(field << 3 | 2));
            int length = field == 1 ? 128 : 32;
            if (length == 128) proof.AddRange([0x80, 0x01]); // varint 128
            else proof.Add((byte)length);
            proof.AddRange(Enumerable.Repeat((byte)field, length));
        }
        return [.. proof];
    }

    [Fact]
    public void The_message_id_is_sha256_of_the_data_as_nwaku_and_js_waku_compute_it()
    {
        // WakuMessage{payload "hello", content_topic "/app/1/chat/proto"}; the digest computed independently (Python hashlib).
        var data = Convert.FromHexString("0a0568656c6c6f12112f6170702f312f636861742f70726f746f");
        Assert.True(RelayMessageId.Function("/waku/2/rs/16/32", data, out var id));
        Assert.Equal("7269113ec581be4c47c5e289ac6eed9f54a5bfbae3f57cce2ec3f2d286bfda25", Convert.ToHexStringLower(id));
        // The topic is not part of it (nwaku and js-waku hash the data only).
        RelayMessageId.Function("/waku/2/rs/1/0", data, out var other);
        Assert.Equal(id, other);
    }

    [Theory]
    [InlineData("/toychat/2/huilong/proto", "/waku/2/rs/1/3")]
    [InlineData("/0/toychat/2/huilong/proto", "/waku/2/rs/1/3")]
    [InlineData("/toychat2/2/huilong/proto", "/waku/2/rs/1/6")]
    [InlineData("/0/toychat/4/huilong/proto2", "/waku/2/rs/1/7")]
    public void Autosharding_gives_the_shards_of_nwakus_tests(string contentTopic, string expected)
    {
        Assert.True(Autosharding.TryGetPubsubTopic(1, 8, contentTopic, out var topic, out var error), error);
        Assert.Equal(expected, topic);
    }

    [Fact]
    public void Autosharding_refuses_other_generations_and_a_node_without_shards()
    {
        Assert.False(Autosharding.TryGetPubsubTopic(1, 8, "/1/toychat/2/huilong/proto", out _, out var generation));
        Assert.Contains("generation", generation);
        Assert.False(Autosharding.TryGetPubsubTopic(16, 0, "/toychat/2/huilong/proto", out _, out var off));
        Assert.Contains("autosharding is off", off);
    }

    [Fact]
    public async Task An_accepted_message_is_forwarded_through_the_mesh_and_stored_by_every_node()
    {
        var network = new InMemoryPubsubNetwork();
        await using var a = new RelayTestNode(network);
        await using var b = new RelayTestNode(network);
        await using var c = new RelayTestNode(network);
        var message = Fresh("hello relay");
        int peers = await a.Relay.PublishAsync(P0, message, Timeout);
        Assert.Equal(2, peers);
        foreach (var node in new[] { a, b, c })
            await Polling.WaitUntil(() => node.Has(P0, message), "every node stores the relayed message");
        Assert.All(new[] { b, c }, n => Assert.Equal(ValidationResult.Accept, Assert.Single(n.Router.Validations).Result));
        Assert.Equal(1, b.RelayMetrics.Accepted);
    }

    [Fact]
    public async Task Each_outcome_maps_to_accept_ignore_or_reject_as_nwaku_does()
    {
        var network = new InMemoryPubsubNetwork();
        await using var node = new RelayTestNode(network);
        RelayVerdict Decide(WakuMessage m) => node.Validator.Decide(P0, m.ToByteArray(), "peer", out _);

        Assert.Equal(new RelayVerdict(ValidationResult.Accept, true, RelayReasons.Stored), Decide(Fresh("ok")));
        Assert.Equal(ValidationResult.Reject, node.Validator.Decide(P0, [0xff, 0xff, 0xff], "peer", out _).Result);
        Assert.Equal(RelayReasons.TooLarge, node.Validator.Decide(P0, Fresh(new string('x', 151 * 1024)).ToByteArray(), "peer", out _).Reason);
        var meta = Fresh("meta");
        meta.Meta = ByteString.CopyFrom(new byte[65]);
        Assert.Equal(new RelayVerdict(ValidationResult.Reject, false, RelayReasons.MetaTooLong), Decide(meta));
        var noTopic = Fresh("x");
        noTopic.ContentTopic = "";
        Assert.Equal(ValidationResult.Reject, Decide(noTopic).Result);
        // nwaku does not check content topics: not forwarded by us, but no penalty for the honest peers that pass it on.
        Assert.Equal(new RelayVerdict(ValidationResult.Ignore, false, RelayReasons.InvalidContentTopic), Decide(Fresh("x", "not-a-topic")));
        var ephemeral = Fresh("e");
        ephemeral.Ephemeral = true;
        Assert.Equal(new RelayVerdict(ValidationResult.Accept, false, RelayReasons.Ephemeral), Decide(ephemeral));
        // nwaku relays any timestamp off RLN clusters; its archive keeps only those within 20 s of now.
        var old = Fresh("old");
        old.Timestamp -= 60 * Timestamp.NanosPerSecond;
        Assert.Equal(new RelayVerdict(ValidationResult.Accept, false, RelayReasons.OutsideTimestampWindow), Decide(old));
        var future = Fresh("future");
        future.Timestamp += 60 * Timestamp.NanosPerSecond;
        Assert.Equal(new RelayVerdict(ValidationResult.Accept, false, RelayReasons.OutsideTimestampWindow), Decide(future));
        // The same Waku message under another encoding (another gossipsub id) is a duplicate.
        var once = Fresh("once");
        Assert.True(Decide(once).Store);
        var reencoded = once.Clone();
        reencoded.Version = 0; // an explicit default field: other bytes, same Waku hash
        Assert.NotEqual(once.ToByteArray(), reencoded.ToByteArray());
        Assert.Equal(new RelayVerdict(ValidationResult.Ignore, false, RelayReasons.Duplicate), Decide(reencoded));
    }

    [Fact]
    public async Task The_community_policy_decides_storing_and_authorship_decides_forwarding()
    {
        var network = new InMemoryPubsubNetwork();
        await using var node = new RelayTestNode(network);
        var owner = StoreSync.Libp2p.Identity.Secp256k1Signatures.GeneratePrivateKey();
        string ownerHex = Convert.ToHexStringLower(StoreSync.Libp2p.Identity.Secp256k1Signatures.PublicKeyOf(owner));
        node.Policy.Configure([
            new CommunityDefinition { Name = "off", PubsubTopics = [P0], ContentTopics = ["/off/1/room/proto"], OptedIn = false },
            new CommunityDefinition { Name = "signed", PubsubTopics = [P0], ContentTopics = ["/signed/1/room/proto"], OwnerKey = ownerHex, RequireAuthorSignature = true },
        ], storeUnlisted: false);
        RelayVerdict Decide(WakuMessage m) => node.Validator.Decide(P0, m.ToByteArray(), "peer", out _);

        // Not opted in, or in no community: valid traffic for others, so forwarded; not archived here.
        Assert.Equal(new RelayVerdict(ValidationResult.Accept, false, RelayReasons.NotStoredByPolicy), Decide(Fresh("a", "/off/1/room/proto")));
        Assert.Equal(new RelayVerdict(ValidationResult.Accept, false, RelayReasons.NotStoredByPolicy), Decide(Fresh("b", "/elsewhere/1/room/proto")));
        // Unsigned in a community that requires authors' signatures: neither stored nor forwarded, no penalty.
        Assert.Equal(new RelayVerdict(ValidationResult.Ignore, false, RelayReasons.Unauthorised), Decide(Fresh("c", "/signed/1/room/proto")));
    }

    [Fact]
    public async Task On_an_rln_cluster_nothing_received_is_forwarded_and_well_formed_messages_are_stored()
    {
        var network = new InMemoryPubsubNetwork();
        var sender = new InMemoryPubsub(network, RelayMessageId.Function); // a plain peer: no Waku validator
        sender.Subscribe(P0);
        await using var rln = new RelayTestNode(network, rlnRequired: true);
        await using var behind = new RelayTestNode(network);
        // behind only hears what rln forwards: cut the direct link by keeping the sender's publish to rln alone.
        var withProof = Fresh("with proof");
        withProof.RateLimitProof = ByteString.CopyFrom(WellFormedProof());
        var verdict = rln.Validator.Decide(P0, withProof.ToByteArray(), "peer", out _);
        Assert.Equal(new RelayVerdict(ValidationResult.Ignore, true, RelayReasons.RlnUnverified), verdict);

        Assert.Equal(new RelayVerdict(ValidationResult.Reject, false, RelayReasons.RlnProofMissing),
            rln.Validator.Decide(P0, Fresh("no proof").ToByteArray(), "peer", out _));
        var broken = Fresh("broken proof");
        broken.RateLimitProof = ByteString.CopyFrom(WellFormedProof()[..40]);
        Assert.Equal(RelayReasons.RlnProofMissing, rln.Validator.Decide(P0, broken.ToByteArray(), "peer", out _).Reason);
        var late = Fresh("late");
        late.RateLimitProof = ByteString.CopyFrom(WellFormedProof());
        late.Timestamp -= 30 * Timestamp.NanosPerSecond;
        Assert.Equal(new RelayVerdict(ValidationResult.Reject, false, RelayReasons.RlnTimestamp), rln.Validator.Decide(P0, late.ToByteArray(), "peer", out _));

        // Through the router: the RLN node stores the message and does not pass it on.
        var relayed = Fresh("relayed with proof");
        relayed.RateLimitProof = ByteString.CopyFrom(WellFormedProof());
        behind.Relay.Unsubscribe(P0); // behind hears P0 only through rln
        await sender.PublishAsync(P0, relayed.ToByteArray(), Timeout);
        await Polling.WaitUntil(() => rln.Has(P0, relayed), "the RLN node stores the well-formed message");
        Assert.Equal(ValidationResult.Ignore, rln.Router.Validations.Single().Result);
        Assert.Equal(0, rln.Router.Forwarded);
        Assert.False(rln.Relay.CanPublish);
        await Assert.ThrowsAsync<RelayPublishException>(async () => await rln.Relay.PublishAsync(P0, Fresh("ours"), Timeout));
    }

    [Fact]
    public async Task Light_push_v3_stores_then_publishes_to_relay_and_names_the_peers_reached()
    {
        var network = new InMemoryPubsubNetwork();
        await using var service = new RelayTestNode(network);
        await using var peer = new RelayTestNode(network);
        var server = new StoreSync.Waku.LightPush.LightPushServer(service.Ingress, new StoreSync.Waku.RateLimiting.PerPeerRateLimiter(0, 1),
            NullLogger<StoreSync.Waku.LightPush.LightPushServer>.Instance, relay: service.Relay);
        var message = Fresh("pushed");
        var request = new StoreSync.Waku.Proto.LightpushRequest { RequestId = "r1", PubsubTopic = P0, Message = message }.ToByteArray();
        var response = await server.AnswerV3Async(request, "client", Timeout);
        Assert.Equal((200u, 1u), (response.StatusCode, response.RelayPeerCount));
        Assert.True(service.Has(P0, message)); // stored before the answer
        await Polling.WaitUntil(() => peer.Has(P0, message), "the relay peer stores the pushed message");

        // Pushed again: stored already, relay has seen it; still a success, no peers named.
        var again = await server.AnswerV3Async(request, "client", Timeout);
        Assert.Equal(200u, again.StatusCode);
        Assert.False(again.HasRelayPeerCount);
    }

    [Fact]
    public async Task Group_commit_stores_in_few_batches_and_a_stop_loses_nothing_queued()
    {
        using var store = new StoreSync.Testing.Storage.TempStore();
        using var metrics = new WakuMetrics();
        using var relayMetrics = new RelayMetrics();
        // A long window, so batches fill by count whatever the scheduling: 1,000 messages in batches of 64.
        var ingest = new RelayIngest(store.Store, metrics, relayMetrics, NullLogger<RelayIngest>.Instance, batchMessages: 64,
            flushInterval: TimeSpan.FromSeconds(2));
        var messages = Enumerable.Range(0, 1000).Select(i => Fresh($"m{i}")).ToArray();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(part => Task.Run(async () =>
        {
            for (int i = part; i < messages.Length; i += 4) await ingest.EnqueueAsync(new IngestItem(P0, messages[i]), Timeout);
        })));
        await ingest.StopAsync(); // graceful stop: flushes what is queued
        Assert.Equal(1000, ingest.Written);
        Assert.Equal(1000, store.Store.GetStatistics().Messages);
        Assert.All(messages, m => Assert.True(store.Store.Contains(MessageHash.Compute(P0, m))));
        Assert.InRange(ingest.Batches, 16, 40);
        await Assert.ThrowsAsync<System.Threading.Channels.ChannelClosedException>(async () => await ingest.EnqueueAsync(new IngestItem(P0, Fresh("late")), Timeout));
    }
}
