using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Libp2p.Identity;
using StoreSync.Node.Communities;
using StoreSync.Node.Hosting;
using StoreSync.Storage;
using StoreSync.Storage.Retention;
using StoreSync.Waku.Communities;

namespace StoreSync.Node.Tests;

/// <summary>The registry: configuration seeding, live changes, the "whichever changed last wins" merge, persistence and validation.</summary>
public sealed class CommunityRegistryTests : IDisposable
{
    const string P0 = "/waku/2/rs/1/0";
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-communities-").FullName;
    readonly MessageStore _store;

    public CommunityRegistryTests() => _store = MessageStore.Open(Path.Combine(_dir, "data"));

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    NodeOptions Options(params (string Name, CommunityOptions Community)[] communities)
    {
        var options = new NodeOptions { DataDir = Path.Combine(_dir, "data"), Shards = [0, 1] };
        foreach (var (name, community) in communities) options.Communities[name] = community;
        return options;
    }

    CommunityRegistry Start(NodeOptions options, Evictor? evictor = null)
    {
        var policy = new CommunityPolicy(new ServedTopics(options.ServedPubsubTopics()));
        var registry = new CommunityRegistry(options, policy, _store, new ServedTopics(options.ServedPubsubTopics()), NullLogger<CommunityRegistry>.Instance, evictor);
        registry.Load();
        return registry;
    }

    static CommunityOptions Chat(long maxBytes = 0) => new() { PubsubTopics = [P0], ContentTopics = ["/chat/1/a/proto"], MaxBytes = maxBytes };

    [Fact]
    public void Live_changes_survive_a_restart_until_the_configuration_file_changes()
    {
        var first = Start(Options(("chat", Chat())));
        Assert.Equal("chat", Assert.Single(first.Communities).Name);
        first.SetOptedIn("chat", false, deleteData: false);
        first.Put(new CommunityDefinition { Name = "live", PubsubTopics = [P0] });
        first.SetSettings(storeUnlisted: true, maxStoreBytes: 5000);

        // Same configuration: the live state is kept.
        var second = Start(Options(("chat", Chat())));
        Assert.False(second.Get("chat").OptedIn);
        Assert.Equal(["chat", "live"], second.Communities.Select(c => c.Name).Order());
        Assert.Equal((true, 5000L), (second.StoreUnlistedSetting, second.MaxStoreBytes));

        // The configuration changed: its definition replaces the live one; the live-added community stays.
        var third = Start(Options(("chat", Chat(maxBytes: 1 << 20))));
        Assert.True(third.Get("chat").OptedIn);
        Assert.Equal(1 << 20, third.Get("chat").MaxBytes);
        Assert.Contains(third.Communities, c => c.Name == "live");
        Assert.Equal((true, 5000L), (third.StoreUnlistedSetting, third.MaxStoreBytes)); // settings unchanged in the configuration

        // Removed live: stays removed while the configuration says the same.
        third.Remove("chat", deleteData: false);
        Assert.DoesNotContain(Start(Options(("chat", Chat(maxBytes: 1 << 20)))).Communities, c => c.Name == "chat");
        // Gone from the configuration: a community it seeded goes too.
        var fifth = Start(Options());
        Assert.Equal(["live"], fifth.Communities.Select(c => c.Name));
    }

    [Fact]
    public void Invalid_changes_are_refused_whole_and_leave_the_state_as_it_was()
    {
        var registry = Start(Options(("chat", Chat())));
        var before = File.ReadAllText(registry.FilePath);
        var unserved = Assert.Throws<CommunityException>(() => registry.Put(new CommunityDefinition { Name = "far", PubsubTopics = ["/waku/2/rs/1/7"] }));
        Assert.Equal(CommunityError.Invalid, unserved.Error);
        Assert.Contains("pubsub topic /waku/2/rs/1/7 is not served by this node", unserved.Message);
        Assert.Contains("PubsubTopics is empty", Assert.Throws<CommunityException>(() => registry.Put(new CommunityDefinition { Name = "empty" })).Message);
        Assert.Equal(CommunityError.NotFound, Assert.Throws<CommunityException>(() => registry.SetOptedIn("nope", true, false)).Error);
        Assert.Contains("deleteData applies to disabling", Assert.Throws<CommunityException>(() => registry.SetOptedIn("chat", true, true)).Message);
        Assert.Equal(before, File.ReadAllText(registry.FilePath));
        Assert.Equal(["chat"], registry.Communities.Select(c => c.Name));
    }

    [Fact]
    public void Configuration_errors_name_the_community_and_field()
    {
        var options = Options(("Bad", new CommunityOptions { PubsubTopics = ["/waku/2/rs/1/9"] }), ("ok", new CommunityOptions { PubsubTopics = ["/waku/2/rs/1/9"], RequireAuthorSignature = true }));
        var errors = options.Validate();
        Assert.Contains(errors, e => e.Contains("community name 'Bad'"));
        Assert.Contains(errors, e => e.Contains("community ok: pubsub topic /waku/2/rs/1/9 is not served"));
        Assert.Contains(errors, e => e.Contains("RequireAuthorSignature needs an OwnerKey"));
    }

    [Fact]
    public void Owner_controls_are_persisted_and_a_damaged_state_file_stops_the_start()
    {
        var owner = Secp256k1Signatures.GeneratePrivateKey();
        var chat = Chat();
        chat.OwnerKey = Convert.ToHexStringLower(Secp256k1Signatures.PublicKeyOf(owner));
        var registry = Start(Options(("chat", chat)));
        var off = CommunityControl.CreateSwitch(owner, StoreSync.Core.Timestamp.Now(), serving: false);
        var admit = registry.Policy.Admit(P0, off.ToMessage(), StoreSync.Core.MessageHash.Compute(P0, off.ToMessage()), "test");
        Assert.True(admit.Accepted, admit.Error);
        Assert.False(registry.Policy.StateOf(registry.Get("chat")).OwnerServing);

        var again = Start(Options(("chat", chat)));
        Assert.False(again.Policy.StateOf(again.Get("chat")).OwnerServing);

        File.WriteAllText(again.FilePath, "{ \"version\": 1, \"communities\": [ { \"definition\": 5 } ] }");
        Assert.Throws<InvalidDataException>(() => Start(Options(("chat", chat))));
        File.WriteAllText(again.FilePath, "{ \"version\": 2 }");
        Assert.Contains("version 2", Assert.Throws<InvalidDataException>(() => Start(Options(("chat", chat)))).Message);
    }

    [Fact]
    public async Task Deleting_a_communitys_data_keeps_what_another_stored_community_holds()
    {
        var registry = Start(Options(("chat", Chat()), ("shard", new CommunityOptions { PubsubTopics = [P0], OptedIn = false })));
        long t = StoreSync.Core.Timestamp.Now() - 3600 * StoreSync.Core.Timestamp.NanosPerSecond;
        var batch = Enumerable.Range(0, 2500).Select(i => new IngestItem(P0, new StoreSync.Core.Proto.WakuMessage
        {
            Payload = Google.Protobuf.ByteString.CopyFromUtf8($"m{i}"), ContentTopic = i % 5 == 0 ? "/other/1/a/proto" : "/chat/1/a/proto", Timestamp = t + i,
        })).ToList();
        _store.Ingest(batch);
        registry.SetOptedIn("shard", false, deleteData: true);
        var job = registry.DeletionOf("shard")!;
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("done", job.State);
        // "shard" holds everything on P0, but "chat" (opted in) holds the chat topic: only the other topic goes.
        Assert.Equal(500, job.Deleted);
        Assert.Equal(2000, _store.GetFigures(P0).Messages);
        Assert.Empty(StoreIntegrity.Check(_store));

        registry.SetOptedIn("chat", false, deleteData: true);
        await registry.DeletionOf("chat")!.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, _store.GetFigures(P0).Messages);
    }

    static List<IngestItem> Messages(string contentTopic, int count, long start, int payloadBytes = 100) =>
        [.. Enumerable.Range(0, count).Select(i => new IngestItem(P0, new StoreSync.Core.Proto.WakuMessage
        {
            Payload = Google.Protobuf.ByteString.CopyFrom(new byte[payloadBytes]), ContentTopic = contentTopic, Timestamp = start + i,
        }))];

    [Fact]
    public void Community_limits_evict_the_oldest_first_and_refuse_what_was_evicted_on_purpose()
    {
        var evictor = new Evictor(_store);
        var registry = Start(Options(("chat", Chat(maxBytes: 20_000))), evictor);
        long t0 = StoreSync.Core.Timestamp.Now() - 3600 * StoreSync.Core.Timestamp.NanosPerSecond;
        _store.Ingest(Messages("/chat/1/a/proto", 500, t0));
        evictor.Evict();
        var figures = _store.GetFigures(P0, "/chat/1/a/proto");
        Assert.InRange(figures.Bytes, 1, 20_000);
        var horizon = _store.GetRetentionHorizon("chat");
        Assert.NotNull(horizon);
        long kept = figures.Messages;
        Assert.Equal(t0 + 500 - kept - 1, horizon!.Value.Timestamp); // the oldest went first: the horizon is the newest evicted

        // An evicted message pushed again is refused, with the reason.
        var metrics = new StoreSync.Waku.WakuMetrics();
        var ingress = new StoreSync.Waku.Ingress.MessageIngress(_store, StoreSync.Core.MessageValidator.Default, new ServedTopics([P0]), metrics,
            NullLogger<StoreSync.Waku.Ingress.MessageIngress>.Instance, registry.Policy);
        var again = ingress.Accept(P0, Messages("/chat/1/a/proto", 1, t0)[0].Message);
        Assert.Equal(StoreSync.Waku.Ingress.IngressRejection.BelowRetentionHorizon, again.Rejection);
        metrics.Dispose();

        // Raising the limit live clears the horizon (backfill may fetch what fits again).
        registry.Put(registry.Get("chat") with { MaxBytes = 1 << 20 });
        Assert.Null(_store.GetRetentionHorizon("chat"));
        Assert.Empty(StoreIntegrity.Check(_store));
    }

    [Fact]
    public void The_global_limit_takes_from_the_lowest_priority_first_and_overlaps_are_reported()
    {
        var evictor = new Evictor(_store);
        var registry = Start(Options(
            ("low", new CommunityOptions { PubsubTopics = [P0], ContentTopics = ["/low/1/a/proto"], Priority = -1 }),
            ("high", new CommunityOptions { PubsubTopics = [P0], ContentTopics = ["/high/1/a/proto"], Priority = 5 }),
            ("wide", new CommunityOptions { PubsubTopics = [P0], OptedIn = false })), evictor);
        Assert.Contains("shares topics with community high", registry.Retention.NotEnforced["wide"]);
        long t0 = StoreSync.Core.Timestamp.Now() - 3600 * StoreSync.Core.Timestamp.NanosPerSecond;
        _store.Ingest(Messages("/high/1/a/proto", 100, t0)); // the older ones
        _store.Ingest(Messages("/low/1/a/proto", 100, t0 + 1000));
        long high = _store.GetFigures(P0, "/high/1/a/proto").Bytes, low = _store.GetFigures(P0, "/low/1/a/proto").Bytes;
        registry.SetSettings(storeUnlisted: null, maxStoreBytes: high + low / 2);
        evictor.Evict();
        Assert.Equal(high, _store.GetFigures(P0, "/high/1/a/proto").Bytes); // untouched although older
        Assert.InRange(_store.GetFigures(P0, "/low/1/a/proto").Bytes, 1, low / 2);
    }
}
