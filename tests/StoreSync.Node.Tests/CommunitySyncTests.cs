using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Identity;
using StoreSync.Testing.Node;
using StoreSync.Waku.Communities;

namespace StoreSync.Node.Tests;

/// <summary>
/// Store sync between two real node processes under community policies: an opted-out community is not synced, an owner's
/// switch-off stops its history from spreading while the switch itself spreads, and the receiver's authorship policy refuses
/// unsigned messages that arrive by sync.
/// </summary>
public sealed class CommunitySyncTests : IDisposable
{
    const string P0 = "/waku/2/rs/1/0";
    const string Open = "/open/1/chat/proto", Closed = "/closed/1/chat/proto", Owned = "/owned/1/chat/proto", Signed = "/signed/1/chat/proto";
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-community-sync-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Config(string name, string ownerPublic, bool closedOptedIn, bool requireSignatures)
    {
        var path = Path.Combine(_dir, name + ".json");
        File.WriteAllText(path, $$"""
            { "StoreSync": { "Shards": [0], "StoreUnlisted": false,
              "Communities": {
                "open":   { "PubsubTopics": ["{{P0}}"], "ContentTopics": ["{{Open}}"] },
                "closed": { "PubsubTopics": ["{{P0}}"], "ContentTopics": ["{{Closed}}"], "OptedIn": {{(closedOptedIn ? "true" : "false")}} },
                "owned":  { "PubsubTopics": ["{{P0}}"], "ContentTopics": ["{{Owned}}"], "OwnerKey": "{{ownerPublic}}" },
                "signed": { "PubsubTopics": ["{{P0}}"], "ContentTopics": ["{{Signed}}"], "OwnerKey": "{{OtherOwner}}", "RequireAuthorSignature": {{(requireSignatures ? "true" : "false")}} } } } }
            """);
        return path;
    }

    static readonly byte[] SignedOwnerKey = Secp256k1Signatures.GeneratePrivateKey();
    static readonly string OtherOwner = Convert.ToHexStringLower(Secp256k1Signatures.PublicKeyOf(SignedOwnerKey));

    static readonly string[] SyncFlags = ["--store-sync-interval", "2", "--store-sync-history-interval", "4", "--store-sync-relay-jitter", "0", "--store-sync-range", "3600"];

    static async Task Push(HttpClient http, WakuMessage m)
    {
        var body = new
        {
            pubsubTopic = P0,
            message = new { payload = Convert.ToBase64String(m.Payload.ToByteArray()), contentTopic = m.ContentTopic, timestamp = m.Timestamp, meta = m.HasMeta ? Convert.ToBase64String(m.Meta.ToByteArray()) : null },
        };
        var response = await http.PostAsJsonAsync("/lightpush/v3/message", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    static WakuMessage Message(string contentTopic, string text) =>
        new() { Payload = ByteString.CopyFromUtf8(text), ContentTopic = contentTopic, Timestamp = Timestamp.Now() - 5 * Timestamp.NanosPerSecond };

    static async Task<JsonObject> Community(HttpClient http, string name) => JsonNode.Parse(await http.GetStringAsync($"/admin/v1/communities/{name}"))!.AsObject();

    static long Stored(JsonObject community) => community["stored"]!["messages"]!.GetValue<long>();

    [Fact]
    public async Task Sync_carries_only_what_both_sides_policies_allow()
    {
        var owner = Secp256k1Signatures.GeneratePrivateKey();
        string ownerPublic = Convert.ToHexStringLower(Secp256k1Signatures.PublicKeyOf(owner));
        await using var a = await StoreNodeProcess.StartAsync(new StoreNodeSettings
        {
            DataDir = Path.Combine(_dir, "a"), Args = ["--config", Config("a", ownerPublic, closedOptedIn: true, requireSignatures: false), .. SyncFlags],
        });
        using var httpA = new HttpClient { BaseAddress = a.Rest, Timeout = TimeSpan.FromSeconds(20) };
        for (int i = 0; i < 5; i++)
        {
            await Push(httpA, Message(Open, $"open {i}"));
            await Push(httpA, Message(Closed, $"closed {i}"));
            await Push(httpA, Message(Owned, $"owned {i}"));
        }
        // A accepts unsigned messages of "signed" (its policy is off); B requires signatures.
        var authored = Message(Signed, "authored");
        AuthorSignature.Sign(SignedOwnerKey, P0, authored);
        await Push(httpA, authored);
        for (int i = 0; i < 3; i++) await Push(httpA, Message(Signed, $"unsigned {i}"));
        // The owner switches history serving off (A stores and applies it).
        await Push(httpA, CommunityControl.CreateSwitch(owner, Timestamp.Now() - Timestamp.NanosPerSecond, serving: false).ToMessage());
        Assert.False((await Community(httpA, "owned"))["state"]!["ownerServing"]!.GetValue<bool>());

        await using var b = await StoreNodeProcess.StartAsync(new StoreNodeSettings
        {
            DataDir = Path.Combine(_dir, "b"),
            Args = ["--config", Config("b", ownerPublic, closedOptedIn: false, requireSignatures: true), "--staticnode", a.Address, .. SyncFlags],
        });
        using var httpB = new HttpClient { BaseAddress = b.Rest, Timeout = TimeSpan.FromSeconds(20) };

        // Bounded wait: B has the open community's history, the owner's switch and the signed message.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var open = await Community(httpB, "open");
            var owned = await Community(httpB, "owned");
            var signed = await Community(httpB, "signed");
            if (Stored(open) == 5 && !owned["state"]!["ownerServing"]!.GetValue<bool>() && Stored(signed) == 1) break;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"no convergence in 120 s: open {Stored(open)}, owned {owned["state"]}, signed {Stored(signed)}\nA:\n{a.Output}\nB:\n{b.Output}");
            await Task.Delay(500);
        }
        // A few more rounds, then check that nothing else came.
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.Equal(0, Stored(await Community(httpB, "closed")));   // B opted out: never fetched
        var ownedOnB = await Community(httpB, "owned");
        Assert.Equal(1, Stored(ownedOnB));                             // the switch only; the owned history stays on A
        Assert.Equal(1, Stored(await Community(httpB, "signed")));     // the unsigned three were refused by B's authorship policy
        Assert.Equal(5, Stored(await Community(httpB, "open")));
        Assert.Equal(6, Stored(await Community(httpA, "owned")));
        Assert.True((await Community(httpB, "signed"))["rejected"]!["unauthorised"]!.GetValue<long>() >= 1);
        // A offered its "closed" scope; B, opted out, refused the session and counted it.
        Assert.True((await Community(httpB, "closed"))["rejected"]!["syncRefused"]!.GetValue<long>() >= 1);
    }
}
