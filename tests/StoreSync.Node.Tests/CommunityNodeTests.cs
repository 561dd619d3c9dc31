using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Testing.Libp2p;
using StoreSync.Testing.Node;
using StoreSync.Waku;
using StoreSync.Waku.Communities;
using StoreSync.Waku.LightPush;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Node.Tests;

/// <summary>
/// Communities on real <c>storesync node</c> processes: the configuration file, the admin REST API and the CLI, opt-in,
/// the owner's signed switch across a restart, the authorship policy over light push (libp2p) and REST push, and figures.
/// </summary>
public sealed class CommunityNodeTests : IDisposable
{
    const string P0 = "/waku/2/rs/1/0", Chat = "/chat/1/room/proto", Plain = "/plain/1/room/proto";
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-community-node-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A node process of these tests (<see cref="StoreNodeProcess"/> with the given config file and working folder)
    /// and a REST client bound to it.</summary>
    sealed class RunningNode(StoreNodeProcess process) : IAsyncDisposable
    {
        public HttpClient Http { get; } = new() { BaseAddress = process.Rest, Timeout = TimeSpan.FromSeconds(20) };
        public Uri Rest => process.Rest;
        public Multiaddr Address => process.Multiaddr;
        public Uri Metrics => process.Metrics!;

        public static async Task<RunningNode> StartAsync(string data, string config, string workingDirectory) =>
            new(await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = data, Metrics = true, WorkingDirectory = workingDirectory, Args = ["--config", config] }));

        /// <summary>SIGTERM; the node must exit cleanly.</summary>
        public async Task StopAsync() => Assert.Equal(0, await process.TerminateAsync());

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await process.DisposeAsync();
        }
    }

    static async Task<JsonObject> Json(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    static object PushBody(WakuMessage m) => new
    {
        pubsubTopic = P0,
        message = new { payload = Convert.ToBase64String(m.Payload.ToByteArray()), contentTopic = m.ContentTopic, timestamp = m.Timestamp, meta = m.HasMeta ? Convert.ToBase64String(m.Meta.ToByteArray()) : null },
    };

    static WakuMessage Message(string contentTopic, string text) => new() { Payload = ByteString.CopyFromUtf8(text), ContentTopic = contentTopic, Timestamp = Timestamp.Now() };

    Task<(int ExitCode, string Stdout, string Stderr)> Cli(RunningNode node, params string[] args) =>
        StoresyncProcess.RunAsync(null, ["community", .. args, "--node", node.Rest.ToString()]);

    static async Task<uint> LightPush(Libp2pHost client, RunningNode node, WakuMessage message)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var request = new LightpushRequest { RequestId = "lp", PubsubTopic = P0, Message = message };
        return LightpushResponse.Parser.ParseFrom(await RequestResponse.RoundTripAsync(client, node.Address, LightPushServer.ProtocolIdV3, request, timeout.Token)).StatusCode;
    }

    [Fact]
    public async Task Communities_end_to_end_on_real_node_processes()
    {
        var data = Path.Combine(_dir, "data");
        var ownerKeyFile = Path.Combine(_dir, "owner.key");
        var memberKeyFile = Path.Combine(_dir, "member.key");

        // Owner and member keys from the CLI's own keygen.
        var ownerGen = await StoresyncProcess.RunAsync(null, "community", "keygen", "-o", ownerKeyFile);
        Assert.Equal(0, ownerGen.ExitCode);
        string ownerPublic = ownerGen.Stdout.Trim();
        var memberGen = await StoresyncProcess.RunAsync(null, "community", "keygen", "-o", memberKeyFile);
        string memberPublic = memberGen.Stdout.Trim();
        var ownerPrivate = Convert.FromHexString(File.ReadAllText(ownerKeyFile).Trim());
        var memberPrivate = Convert.FromHexString(File.ReadAllText(memberKeyFile).Trim());
        Assert.Equal(ownerPublic, Convert.ToHexStringLower(Secp256k1Signatures.PublicKeyOf(ownerPrivate)));
        Assert.Equal(2, (await StoresyncProcess.RunAsync(null, "community", "keygen", "-o", ownerKeyFile)).ExitCode); // never overwrites

        var config = Path.Combine(_dir, "node.json");
        File.WriteAllText(config, $$"""
            { "StoreSync": { "Shards": [0, 1], "StoreUnlisted": false,
              "Communities": {
                "chat":  { "PubsubTopics": ["{{P0}}"], "ContentTopics": ["{{Chat}}"], "OwnerKey": "{{ownerPublic}}", "RequireAuthorSignature": true },
                "plain": { "PubsubTopics": ["{{P0}}"], "ContentTopics": ["{{Plain}}"], "MaxBytes": 1048576 } } } }
            """);

        await using var client = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() });
        var node = await RunningNode.StartAsync(data, config, _dir);
        try
        {
            var http = node.Http;
            // --- authorship over REST push and light push ---
            var unsigned = await http.PostAsJsonAsync("/lightpush/v3/message", PushBody(Message(Chat, "unsigned")));
            Assert.Equal(HttpStatusCode.BadRequest, unsigned.StatusCode);
            Assert.Contains("requires an author signature", await unsigned.Content.ReadAsStringAsync());
            var byOwner = Message(Chat, "by owner");
            AuthorSignature.Sign(ownerPrivate, P0, byOwner);
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("/lightpush/v3/message", PushBody(byOwner))).StatusCode);
            var byMember = Message(Chat, "by member");
            AuthorSignature.Sign(memberPrivate, P0, byMember);
            Assert.Equal(WakuStatus.InvalidMessage, await LightPush(client, node, byMember));

            // The owner's member list, signed by the CLI, pushed through REST; then the member's message passes light push.
            var members = await StoresyncProcess.RunAsync(null, "community", "sign-members", "-k", ownerKeyFile, "-p", P0, "-m", memberPublic);
            Assert.Equal(0, members.ExitCode);
            var pushedList = await http.PostAsync("/lightpush/v3/message", new StringContent(members.Stdout.Trim(), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, pushedList.StatusCode);
            Assert.Equal(WakuStatus.Success, await LightPush(client, node, byMember));
            var stranger = Message(Chat, "by stranger");
            AuthorSignature.Sign(Secp256k1Signatures.GeneratePrivateKey(), P0, stranger);
            Assert.Equal(WakuStatus.InvalidMessage, await LightPush(client, node, stranger));
            // The CLI's own author signature is accepted too.
            var signedByCli = await StoresyncProcess.RunAsync(null, "community", "sign-message", "-k", memberKeyFile, "-p", P0, "-c", Chat, "--text", "from the cli");
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/lightpush/v3/message", new StringContent(signedByCli.Stdout.Trim(), Encoding.UTF8, "application/json"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("/lightpush/v3/message", PushBody(Message(Plain, "plain 1")))).StatusCode);
            var unlisted = await http.PostAsJsonAsync("/lightpush/v3/message", PushBody(Message("/else/1/x/proto", "nobody's")));
            Assert.Contains("belongs to no community", await unlisted.Content.ReadAsStringAsync());

            // --- figures: REST JSON and CLI ---
            var chat = await Json(await http.GetAsync("/admin/v1/communities/chat"));
            Assert.Equal(4, chat["stored"]!["messages"]!.GetValue<long>()); // owner's, member's, CLI's, and the member list itself
            Assert.Equal(1, chat["state"]!["members"]!.GetValue<int>());
            Assert.Equal(3, chat["rejected"]!["unauthorised"]!.GetValue<long>());
            Assert.True(chat["state"]!["serving"]!.GetValue<bool>());
            Assert.True(chat["limits"]!["enforced"]!.GetValue<bool>());
            var list = await Cli(node, "list");
            Assert.Equal(0, list.ExitCode);
            Assert.Matches(@"chat\s+yes\s+4\s", list.Stdout);
            Assert.Matches(@"plain\s+yes\s+1\s+\d+\s+1048576", list.Stdout);

            // --- the owner's switch: off (signed by the CLI), a forged on ignored, queries refused over REST and libp2p ---
            var off = await StoresyncProcess.RunAsync(null, "community", "sign-switch", "-k", ownerKeyFile, "-p", P0, "--off");
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/lightpush/v3/message", new StringContent(off.Stdout.Trim(), Encoding.UTF8, "application/json"))).StatusCode);
            var forged = CommunityControl.CreateSwitch(Secp256k1Signatures.GeneratePrivateKey(), Timestamp.Now(), serving: true).ToPayload();
            Convert.FromHexString(ownerPublic).CopyTo(forged, 31);
            var forgedMessage = new WakuMessage { Payload = ByteString.CopyFrom(forged), ContentTopic = CommunityControl.ContentTopicFor(ownerPublic), Timestamp = Timestamp.Now() };
            Assert.Equal(WakuStatus.InvalidMessage, await LightPush(client, node, forgedMessage));
            await AssertChatServed(node, client, served: false);
            chat = await Json(await http.GetAsync("/admin/v1/communities/chat"));
            Assert.False(chat["state"]!["ownerServing"]!.GetValue<bool>());
            Assert.Equal(1, chat["control"]!["invalid"]!.GetValue<long>());
            Assert.Equal(2, chat["control"]!["applied"]!.GetValue<long>());

            // --- CLI management and its errors ---
            var added = await Cli(node, "add", "extra", "-p", P0, "-c", "/extra/1/x/proto", "--priority", "5");
            Assert.Equal(0, added.ExitCode);
            var twice = await Cli(node, "add", "extra", "-p", P0);
            Assert.Equal(1, twice.ExitCode);
            Assert.Contains("exists already", twice.Stderr);
            var badTopic = await Cli(node, "add", "far", "-p", "/waku/2/rs/1/9");
            Assert.Contains("not served by this node", badTopic.Stderr);
            Assert.Contains("no community named 'nope'", (await Cli(node, "show", "nope")).Stderr);
            Assert.Equal(0, (await Cli(node, "set", "extra", "--max-bytes", "2048")).ExitCode);
            Assert.Equal(2048, (await Json(await http.GetAsync("/admin/v1/communities/extra")))["maxBytes"]!.GetValue<long>());
            var disabled = await Cli(node, "disable", "plain", "--delete-data", "--wait");
            Assert.Equal(0, disabled.ExitCode);
            Assert.Contains("deletion: done, 1 of about 1 messages deleted", disabled.Stderr);
            Assert.Equal(0, (await Json(await http.GetAsync("/admin/v1/communities/plain")))["stored"]!["messages"]!.GetValue<long>());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync($"/store/v3/messages?pubsubTopic={Uri.EscapeDataString(P0)}&contentTopics={Uri.EscapeDataString(Plain)}")).StatusCode);
            var noNode = await StoresyncProcess.RunAsync(null, "community", "list", "--node", "http://127.0.0.1:1");
            Assert.Equal(1, noNode.ExitCode);
            Assert.Contains("no node answers", noNode.Stderr);

            // --- metrics with the community label ---
            using var metrics = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            var text = await metrics.GetStringAsync(node.Metrics);
            Assert.Contains("storesync_community_messages{otel_scope_name=\"StoreSync\",community=\"chat\"} 5", text);
            Assert.Contains("storesync_community_owner_serving{otel_scope_name=\"StoreSync\",community=\"chat\"} 0", text);
            Assert.Contains("storesync_community_rejected_total{otel_scope_name=\"StoreSync\",community=\"chat\",reason=\"Unauthorised\"} 3", text);
            Assert.Matches("storesync_community_newest_timestamp_seconds\\{otel_scope_name=\"StoreSync\",community=\"chat\"\\} 1[0-9]{9}\\.[0-9]", text);

            await node.StopAsync();
            await node.DisposeAsync();

            // --- restart: the owner's switch, the live additions and the opt-out are all still in force ---
            node = await RunningNode.StartAsync(data, config, _dir);
            await AssertChatServed(node, client, served: false);
            var communities = await Json(await node.Http.GetAsync("/admin/v1/communities"));
            var names = communities["communities"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToList();
            Assert.Equal(["chat", "extra", "plain"], names.Order());
            Assert.False((await Json(await node.Http.GetAsync("/admin/v1/communities/plain")))["optedIn"]!.GetValue<bool>());

            // An older switch-on changes nothing; a newer one turns serving back on.
            var stale = CommunityControl.CreateSwitch(ownerPrivate, Timestamp.Now() - 3600 * Timestamp.NanosPerSecond, serving: true).ToMessage();
            Assert.Equal(WakuStatus.Success, await LightPush(client, node, stale));
            await AssertChatServed(node, client, served: false);
            var on = await StoresyncProcess.RunAsync(null, "community", "sign-switch", "-k", ownerKeyFile, "-p", P0, "--on");
            Assert.Equal(HttpStatusCode.OK, (await node.Http.PostAsync("/lightpush/v3/message", new StringContent(on.Stdout.Trim(), Encoding.UTF8, "application/json"))).StatusCode);
            await AssertChatServed(node, client, served: true);
            await node.StopAsync();
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_admin_api_refuses_bad_requests_with_clear_errors()
    {
        var config = Path.Combine(_dir, "plain.json");
        File.WriteAllText(config, """{ "StoreSync": { "Shards": [0] } }""");
        var node = await RunningNode.StartAsync(Path.Combine(_dir, "data"), config, _dir);
        try
        {
            var http = node.Http;
            async Task<(HttpStatusCode Status, string Error)> Send(HttpMethod method, string path, string? body = null, bool ifNoneMatch = false)
            {
                using var request = new HttpRequestMessage(method, path);
                if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                if (ifNoneMatch) request.Headers.TryAddWithoutValidation("If-None-Match", "*");
                using var response = await http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                return (response.StatusCode, response.IsSuccessStatusCode ? text : JsonNode.Parse(text)!["error"]!.GetValue<string>());
            }

            // Without communities everything served is stored: the default of StoreUnlisted.
            var settings = await Json(await http.GetAsync("/admin/v1/settings"));
            Assert.True(settings["storeUnlisted"]!.GetValue<bool>());
            Assert.Null(settings["storeUnlistedSetting"]);

            var body = $$"""{"pubsubTopics":["{{P0}}"],"contentTopics":["{{Chat}}"]}""";
            Assert.Equal(HttpStatusCode.Created, (await Send(HttpMethod.Put, "/admin/v1/communities/chat", body, ifNoneMatch: true)).Status);
            Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, "/admin/v1/communities/chat", body)).Status);
            var conflict = await Send(HttpMethod.Put, "/admin/v1/communities/chat", body, ifNoneMatch: true);
            Assert.Equal((HttpStatusCode.Conflict, true), (conflict.Status, conflict.Error.Contains("exists already")));
            // The first community defined: unlisted messages are now refused (the setting is unset).
            Assert.False((await Json(await http.GetAsync("/admin/v1/settings")))["storeUnlisted"]!.GetValue<bool>());

            var cases = new (HttpMethod Method, string Path, string? Body, HttpStatusCode Status, string Error)[]
            {
                (HttpMethod.Put, "/admin/v1/communities/chat", """{"name":"other","pubsubTopics":["/waku/2/rs/1/0"]}""", HttpStatusCode.BadRequest, "the path names 'chat'"),
                (HttpMethod.Put, "/admin/v1/communities/chat", "{not json", HttpStatusCode.BadRequest, "not JSON"),
                (HttpMethod.Put, "/admin/v1/communities/chat", "[1]", HttpStatusCode.BadRequest, "must be a JSON object"),
                (HttpMethod.Put, "/admin/v1/communities/chat", """{"pubsubTopics":["/waku/2/rs/1/0"],"colour":"red"}""", HttpStatusCode.BadRequest, "colour"),
                (HttpMethod.Put, "/admin/v1/communities/Chat", """{"pubsubTopics":["/waku/2/rs/1/0"]}""", HttpStatusCode.BadRequest, "community name 'Chat'"),
                (HttpMethod.Put, "/admin/v1/communities/x", """{"pubsubTopics":["/waku/2/rs/1/0"],"ownerKey":"nothex"}""", HttpStatusCode.BadRequest, "OwnerKey must be a compressed secp256k1"),
                (HttpMethod.Patch, "/admin/v1/communities/chat", """{"name":"renamed"}""", HttpStatusCode.BadRequest, "cannot be renamed"),
                (HttpMethod.Patch, "/admin/v1/communities/chat", """{"maxBytes":-5}""", HttpStatusCode.BadRequest, "MaxBytes -5 is negative"),
                (HttpMethod.Patch, "/admin/v1/communities/nope", """{"maxBytes":5}""", HttpStatusCode.NotFound, "no community named 'nope'"),
                (HttpMethod.Delete, "/admin/v1/communities/nope", null, HttpStatusCode.NotFound, "no community named 'nope'"),
                (HttpMethod.Post, "/admin/v1/communities/chat/disable?deleteData=maybe", null, HttpStatusCode.BadRequest, "deleteData must be true or false"),
                (HttpMethod.Patch, "/admin/v1/settings", """{"storeUnlisted":"yes"}""", HttpStatusCode.BadRequest, "storeUnlisted must be true, false or null"),
                (HttpMethod.Patch, "/admin/v1/settings", """{"maxStoreBytes":-1}""", HttpStatusCode.BadRequest, "negative"),
                (HttpMethod.Patch, "/admin/v1/settings", """{"colour":1}""", HttpStatusCode.BadRequest, "unknown setting 'colour'"),
            };
            foreach (var c in cases)
            {
                var (status, error) = await Send(c.Method, c.Path, c.Body);
                Assert.True(status == c.Status && error.Contains(c.Error), $"{c.Method} {c.Path} {c.Body}: {(int)status} {error}");
            }
            // Nothing of the refused requests changed the state; a merge patch that clears a field works.
            var chat = await Json(await http.GetAsync("/admin/v1/communities/chat"));
            Assert.Equal(0, chat["maxBytes"]!.GetValue<long>());
            Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Patch, "/admin/v1/communities/chat", """{"contentTopics":[],"priority":3}""")).Status);
            chat = await Json(await http.GetAsync("/admin/v1/communities/chat"));
            Assert.Empty(chat["contentTopics"]!.AsArray());
            Assert.Equal(3, chat["priority"]!.GetValue<int>());
            Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Patch, "/admin/v1/settings", """{"storeUnlisted":true,"maxStoreBytes":1000000}""")).Status);
            Assert.Equal(1000000, (await Json(await http.GetAsync("/admin/v1/settings")))["maxStoreBytes"]!.GetValue<long>());
            await node.StopAsync();
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public void Only_loopback_callers_reach_the_admin_api()
    {
        Assert.True(StoreSync.Node.Rest.CommunityEndpoints.IsAdminCaller(IPAddress.Loopback));
        Assert.True(StoreSync.Node.Rest.CommunityEndpoints.IsAdminCaller(IPAddress.IPv6Loopback));
        Assert.True(StoreSync.Node.Rest.CommunityEndpoints.IsAdminCaller(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.False(StoreSync.Node.Rest.CommunityEndpoints.IsAdminCaller(IPAddress.Parse("192.0.2.7")));
        Assert.False(StoreSync.Node.Rest.CommunityEndpoints.IsAdminCaller(IPAddress.Parse("::ffff:192.0.2.7")));
        Assert.False(StoreSync.Node.Rest.CommunityEndpoints.IsAdminCaller(null));
    }

    /// <summary>The chat community's history over REST and over libp2p Store v3: 200 with its messages, or 503.</summary>
    static async Task AssertChatServed(RunningNode node, Libp2pHost client, bool served)
    {
        var rest = await node.Http.GetAsync($"/store/v3/messages?pubsubTopic={Uri.EscapeDataString(P0)}&contentTopics={Uri.EscapeDataString(Chat)}&includeData=true");
        var body = await Json(rest);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var response = await new StoreQueryClient(client).QueryAsync(node.Address,
            new StoreQueryRequest { RequestId = "q", PubsubTopic = P0, ContentTopics = { Chat }, IncludeData = true }, timeout.Token);
        if (served)
        {
            Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
            Assert.Equal(3, body["messages"]!.AsArray().Count);
            Assert.Equal((WakuStatus.Success, 3), (response.StatusCode, response.Messages.Count));
        }
        else
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, rest.StatusCode);
            Assert.Contains("its owner switched serving off", body["statusDesc"]!.GetValue<string>());
            Assert.Equal(WakuStatus.ServiceUnavailable, response.StatusCode);
            Assert.Empty(response.Messages);
        }
    }
}
