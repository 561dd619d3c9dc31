using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Identity;
using StoreSync.Node.Json;
using StoreSync.Waku.Communities;

namespace StoreSync.Node.Cli;

/// <summary>
/// <c>storesync community ...</c>: manage the communities of a running node through its admin REST API (list, show, add,
/// set, remove, enable, disable, settings), and, offline, the owner's and authors' tools (keygen, sign-switch,
/// sign-members, sign-message).
/// </summary>
/// <remarks>
/// The management commands talk to the running node only (one writer: the node; the change is live at once). To set
/// communities up before the first start, write them in the configuration file.
/// </remarks>
internal static class CommunityCommand
{
    static readonly Option<string> Node = new("--node")
    {
        Description = "REST address of the running node (its admin API answers on the loopback interface only)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("STORESYNC_NODE") ?? "http://127.0.0.1:8645",
        Recursive = true,
    };

    public static Command Create()
    {
        var command = new Command("community", """
            Manage the communities of a running node (through its REST admin API, --node, default http://127.0.0.1:8645),
            and sign owner control messages and authored messages offline. See spec/communities.md.
            """)
        {
            Node, List(), Show(), Add(), Set(), Remove(), Enable(), Disable(), Settings(), KeyGen(), SignSwitch(), SignMembers(), SignMessage(),
        };
        return command;
    }

    // ---- management, through the node ----

    static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the node's JSON answer" };
        var command = new Command("list", "List the communities with their serving state and stored figures") { json };
        command.SetAction(async (parse, ct) =>
        {
            var answer = await CallAsync(parse, HttpMethod.Get, "/admin/v1/communities", null, ct);
            if (parse.GetValue(json)) { Print(answer); return 0; }
            Console.WriteLine($"{"name",-24} {"serving",-8} {"messages",10} {"bytes",14} {"max bytes",12}  {"newest",-30}  reason");
            foreach (var c in answer!["communities"]!.AsArray())
            {
                var state = c!["state"]!;
                var stored = c["stored"]!;
                string newest = stored["newest"] is { } n ? Timestamp.Format(n.GetValue<long>()) : "-";
                Console.WriteLine($"{c["name"],-24} {(state["serving"]!.GetValue<bool>() ? "yes" : "no"),-8} {stored["messages"],10} {stored["bytes"],14} {c["maxBytes"],12}  {newest,-30}  {state["reason"]}");
            }
            Console.WriteLine($"unlisted messages: {(answer["storeUnlisted"]!.GetValue<bool>() ? "stored" : "refused")}; global limit: {answer["maxStoreBytes"]} bytes (0 = none)");
            return 0;
        });
        return command;
    }

    static Command Show()
    {
        var name = NameArgument();
        var command = new Command("show", "Print one community as JSON: definition, serving state, figures, counters, data deletion") { name };
        command.SetAction(async (parse, ct) =>
        {
            Print(await CallAsync(parse, HttpMethod.Get, $"/admin/v1/communities/{Uri.EscapeDataString(parse.GetValue(name)!)}", null, ct));
            return 0;
        });
        return command;
    }

    sealed record DefinitionOptions(Option<string[]> Pubsub, Option<string[]> Content, Option<string?> Owner, Option<bool?> RequireAuthor,
        Option<long?> MaxBytes, Option<int?> Priority)
    {
        public static DefinitionOptions Create() => new(
            new Option<string[]>("--pubsub-topic", "-p") { Description = "Pubsub topic of the community (repeatable)" },
            new Option<string[]>("--content-topic", "-c") { Description = "Content topic of the community (repeatable; none = every content topic on its pubsub topics)" },
            new Option<string?>("--owner-key") { Description = "Owner's compressed secp256k1 public key (66 hex digits); 'none' clears it" },
            new Option<bool?>("--require-author-signature") { Description = "Authorship policy: accept only messages signed by the owner or an authorised member" },
            new Option<long?>("--max-bytes") { Description = "Most bytes kept for the community (0 = no community limit)" },
            new Option<int?>("--priority") { Description = "Eviction priority under the global limit (-1000..1000; lower goes first)" });

        public IEnumerable<Option> All => [Pubsub, Content, Owner, RequireAuthor, MaxBytes, Priority];

        /// <summary>The JSON members the options give (only those given, for a patch).</summary>
        public JsonObject ToJson(ParseResult parse)
        {
            var body = new JsonObject();
            if (parse.GetValue(Pubsub) is { Length: > 0 } p) body["pubsubTopics"] = new JsonArray([.. p.Select(t => (JsonNode?)t)]);
            if (parse.GetValue(Content) is { Length: > 0 } c) body["contentTopics"] = new JsonArray([.. c.Select(t => (JsonNode?)t)]);
            if (parse.GetValue(Owner) is { } o) body["ownerKey"] = o == "none" ? null : o.ToLowerInvariant();
            if (parse.GetValue(RequireAuthor) is { } r) body["requireAuthorSignature"] = r;
            if (parse.GetValue(MaxBytes) is { } m) body["maxBytes"] = m;
            if (parse.GetValue(Priority) is { } q) body["priority"] = q;
            return body;
        }
    }

    static Command Add()
    {
        var name = NameArgument();
        var options = DefinitionOptions.Create();
        var optedOut = new Option<bool>("--opted-out") { Description = "Define the community without storing it yet" };
        var command = new Command("add", "Add a community (an error if the name exists); it is opted in unless --opted-out") { name, optedOut };
        foreach (var o in options.All) command.Options.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            var body = options.ToJson(parse);
            body["optedIn"] = !parse.GetValue(optedOut);
            Print(await CallAsync(parse, HttpMethod.Put, $"/admin/v1/communities/{Uri.EscapeDataString(parse.GetValue(name)!)}", body, ct, ifNoneMatch: true));
            return 0;
        });
        return command;
    }

    static Command Set()
    {
        var name = NameArgument();
        var options = DefinitionOptions.Create();
        var command = new Command("set", "Change fields of a community: a topic option replaces that whole list") { name };
        foreach (var o in options.All) command.Options.Add(o);
        command.SetAction(async (parse, ct) =>
        {
            var body = options.ToJson(parse);
            if (body.Count == 0) throw new CliUsageException("community set: give at least one field to change (see --help)");
            Print(await CallAsync(parse, HttpMethod.Patch, $"/admin/v1/communities/{Uri.EscapeDataString(parse.GetValue(name)!)}", body, ct));
            return 0;
        });
        return command;
    }

    static readonly Option<bool> DeleteData = new("--delete-data") { Description = "Also delete the community's stored messages (in the background, in bounded chunks)" };
    static readonly Option<bool> Wait = new("--wait") { Description = "With --delete-data: wait for the deletion, printing its progress" };

    static Command Remove()
    {
        var name = NameArgument();
        var command = new Command("remove", "Remove a community; its messages stay (then unlisted) unless --delete-data") { name, DeleteData, Wait };
        command.SetAction(async (parse, ct) =>
        {
            var community = parse.GetValue(name)!;
            var answer = await CallAsync(parse, HttpMethod.Delete, $"/admin/v1/communities/{Uri.EscapeDataString(community)}?deleteData={(parse.GetValue(DeleteData) ? "true" : "false")}", null, ct);
            Print(answer);
            return parse.GetValue(Wait) && answer!["deletion"] is not null ? await WaitAsync(parse, community, ct) : 0;
        });
        return command;
    }

    static Command Enable()
    {
        var name = NameArgument();
        var command = new Command("enable", "Opt in: store, serve and sync the community") { name };
        command.SetAction(async (parse, ct) =>
        {
            Print(await CallAsync(parse, HttpMethod.Post, $"/admin/v1/communities/{Uri.EscapeDataString(parse.GetValue(name)!)}/enable", null, ct));
            return 0;
        });
        return command;
    }

    static Command Disable()
    {
        var name = NameArgument();
        var command = new Command("disable", "Opt out: stop storing, serving and syncing the community at once") { name, DeleteData, Wait };
        command.SetAction(async (parse, ct) =>
        {
            var community = parse.GetValue(name)!;
            Print(await CallAsync(parse, HttpMethod.Post, $"/admin/v1/communities/{Uri.EscapeDataString(community)}/disable?deleteData={(parse.GetValue(DeleteData) ? "true" : "false")}", null, ct));
            return parse.GetValue(Wait) && parse.GetValue(DeleteData) ? await WaitAsync(parse, community, ct) : 0;
        });
        return command;
    }

    static Command Settings()
    {
        var unlisted = new Option<string?>("--store-unlisted") { Description = "Messages of no community: true, false, or auto (stored only while no community is defined)" };
        var maxBytes = new Option<long?>("--max-store-bytes") { Description = "Most bytes the store keeps in all (0 = no global limit)" };
        var command = new Command("settings", "Show or change the global settings") { unlisted, maxBytes };
        command.SetAction(async (parse, ct) =>
        {
            var body = new JsonObject();
            if (parse.GetValue(unlisted) is { } u)
                body["storeUnlisted"] = u switch
                {
                    "true" => true,
                    "false" => false,
                    "auto" => null,
                    _ => throw new CliUsageException($"--store-unlisted: '{u}' is not true, false or auto"),
                };
            if (parse.GetValue(maxBytes) is { } m) body["maxStoreBytes"] = m;
            Print(await CallAsync(parse, body.Count == 0 ? HttpMethod.Get : HttpMethod.Patch, "/admin/v1/settings", body.Count == 0 ? null : body, ct));
            return 0;
        });
        return command;
    }

    /// <summary>Polls the deletion's progress until it finishes (bounded: one poll a second, at most 24 h).</summary>
    static async Task<int> WaitAsync(ParseResult parse, string community, CancellationToken ct)
    {
        for (int polls = 0; polls < 24 * 3600; polls++)
        {
            var answer = await CallAsync(parse, HttpMethod.Get, $"/admin/v1/communities/{Uri.EscapeDataString(community)}", null, ct, allowNotFound: true);
            var deletion = answer?["deletion"];
            if (deletion is null) { Console.Error.WriteLine("deletion: no longer reported (the community was removed and the node restarted?)"); return 0; }
            string state = deletion["state"]!.GetValue<string>();
            Console.Error.WriteLine($"deletion: {state}, {deletion["deleted"]} of about {deletion["total"]} messages deleted");
            if (state != "running") return state == "done" ? 0 : 1;
            await Task.Delay(1000, ct);
        }
        return 1;
    }

    // ---- owner and author tools, offline ----

    static Command KeyGen()
    {
        var output = new Option<FileInfo>("--out", "-o") { Description = "File to write the private key to (hex; created with mode 0600; must not exist)", Required = true };
        var command = new Command("keygen", "Create a secp256k1 key for an owner or an author; prints the public key (the OwnerKey or a member key)") { output };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(output)!;
            if (file.Exists) throw new CliUsageException($"{file.FullName} exists; refusing to overwrite a key");
            var key = Secp256k1Signatures.GeneratePrivateKey();
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var writer = new StreamWriter(file.FullName, Encoding.ASCII, options)) writer.WriteLine(Convert.ToHexStringLower(key));
            Console.WriteLine(Convert.ToHexStringLower(Secp256k1Signatures.PublicKeyOf(key)));
            return 0;
        });
        return command;
    }

    static readonly Option<FileInfo> KeyFile = new("--key", "-k") { Description = "Private key file (hex, as 'community keygen' writes it)", Required = true };
    static readonly Option<string[]> PubsubTopics = new("--pubsub-topic", "-p") { Description = "Pubsub topic to publish on (repeatable: one message line each)", Required = true };
    static readonly Option<string?> At = new("--timestamp") { Description = "Timestamp: nanoseconds or ISO-8601 (default now)" };

    static Command SignSwitch()
    {
        var on = new Option<bool>("--on") { Description = "Serving on" };
        var off = new Option<bool>("--off") { Description = "Serving off" };
        var command = new Command("sign-switch", """
            Sign the owner's switch (serving on or off) and print it as JSON lines {"pubsubTopic","message"}, one per pubsub
            topic: push each to a node (POST /lightpush/v3/message) or import them ('storesync import').
            """) { KeyFile, PubsubTopics, At, on, off };
        command.SetAction(parse =>
        {
            if (parse.GetValue(on) == parse.GetValue(off)) throw new CliUsageException("sign-switch: give exactly one of --on and --off");
            var control = CommunityControl.CreateSwitch(ReadKey(parse), TimestampOf(parse), serving: parse.GetValue(on));
            PrintMessages(parse, control.ToMessage());
            return 0;
        });
        return command;
    }

    static Command SignMembers()
    {
        var members = new Option<string[]>("--member", "-m") { Description = "Authorised author's public key (66 hex digits; repeatable)" };
        var membersFile = new Option<FileInfo?>("--members-file") { Description = "File of member public keys, one per line" };
        var command = new Command("sign-members", $"Sign the owner's member list (the complete list, at most {CommunityControl.MaxMembers} keys) and print it as JSON lines")
        {
            KeyFile, PubsubTopics, At, members, membersFile,
        };
        command.SetAction(parse =>
        {
            var keys = (parse.GetValue(members) ?? []).ToList();
            if (parse.GetValue(membersFile) is { } f)
            {
                if (!f.Exists) throw new CliUsageException($"no such file: {f.FullName}");
                keys.AddRange(File.ReadLines(f.FullName).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));
            }
            var parsed = keys.Select(k => CommunityDefinition.IsValidOwnerKey(k.ToLowerInvariant())
                ? Convert.FromHexString(k) : throw new CliUsageException($"member key '{k}' is not a compressed secp256k1 public key (66 hex digits)")).ToList();
            if (parsed.Count > CommunityControl.MaxMembers) throw new CliUsageException($"{parsed.Count} members, at most {CommunityControl.MaxMembers}");
            PrintMessages(parse, CommunityControl.CreateMembers(ReadKey(parse), TimestampOf(parse), parsed).ToMessage());
            return 0;
        });
        return command;
    }

    static Command SignMessage()
    {
        var contentTopic = new Option<string>("--content-topic", "-c") { Description = "Content topic", Required = true };
        var text = new Option<string?>("--text") { Description = "Payload as UTF-8 text" };
        var payload = new Option<string?>("--payload") { Description = "Payload as base64" };
        var command = new Command("sign-message", "Sign a message as its author (the signature goes in meta) and print it as JSON lines, one per pubsub topic")
        {
            KeyFile, PubsubTopics, At, contentTopic, text, payload,
        };
        command.SetAction(parse =>
        {
            if ((parse.GetValue(text) is null) == (parse.GetValue(payload) is null)) throw new CliUsageException("sign-message: give exactly one of --text and --payload");
            byte[] bytes;
            try { bytes = parse.GetValue(text) is { } t ? Encoding.UTF8.GetBytes(t) : Convert.FromBase64String(parse.GetValue(payload)!); }
            catch (FormatException) { throw new CliUsageException("--payload is not base64"); }
            var topic = parse.GetValue(contentTopic)!;
            if (!ContentTopic.TryValidate(topic, out var error)) throw new CliUsageException("--content-topic: " + error);
            var key = ReadKey(parse);
            long timestamp = TimestampOf(parse);
            PrintMessages(parse, pubsub =>
            {
                var message = new WakuMessage { Payload = ByteString.CopyFrom(bytes), ContentTopic = topic, Timestamp = timestamp };
                AuthorSignature.Sign(key, pubsub, message);
                return message;
            });
            return 0;
        });
        return command;
    }

    static byte[] ReadKey(ParseResult parse)
    {
        var file = parse.GetValue(KeyFile)!;
        if (!file.Exists) throw new CliUsageException($"no such key file: {file.FullName}");
        var text = File.ReadAllText(file.FullName).Trim();
        try
        {
            var key = Convert.FromHexString(text);
            Secp256k1Signatures.PublicKeyOf(key); // range check
            return key;
        }
        catch (FormatException)
        {
            throw new CliUsageException($"{file.FullName} does not hold a secp256k1 private key (64 hex digits)");
        }
    }

    static long TimestampOf(ParseResult parse) => parse.GetValue(At) is { } t ? CliOptions.ParseTime(t, "--timestamp") : Timestamp.Now();

    static void PrintMessages(ParseResult parse, WakuMessage message) => PrintMessages(parse, _ => message);

    static void PrintMessages(ParseResult parse, Func<string, WakuMessage> messageFor)
    {
        using var stdout = Console.OpenStandardOutput();
        foreach (var pubsub in parse.GetValue(PubsubTopics)!)
        {
            if (!PubsubTopic.TryValidate(pubsub, out var error)) throw new CliUsageException("--pubsub-topic: " + error);
            using (var json = new Utf8JsonWriter(stdout))
            {
                json.WriteStartObject();
                json.WriteString("pubsubTopic", pubsub);
                json.WritePropertyName("message");
                MessageJson.WriteMessage(json, messageFor(pubsub));
                json.WriteEndObject();
            }
            stdout.WriteByte((byte)'\n');
        }
    }

    // ---- plumbing ----

    static Argument<string> NameArgument() => new("NAME") { Description = "Community name" };

    static async Task<JsonNode?> CallAsync(ParseResult parse, HttpMethod method, string path, JsonObject? body, CancellationToken ct,
        bool ifNoneMatch = false, bool allowNotFound = false)
    {
        var node = parse.GetValue(Node)!;
        if (!Uri.TryCreate(node, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
            throw new CliUsageException($"--node: '{node}' is not an http:// address");
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (ifNoneMatch) request.Headers.TryAddWithoutValidation("If-None-Match", "*");
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"no node answers at {baseUri} ({e.Message}); start it with 'storesync node', or give --node", e);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (allowNotFound && response.StatusCode == HttpStatusCode.NotFound) return null;
            JsonNode? answer = null;
            try { answer = text.Length == 0 ? null : JsonNode.Parse(text); }
            catch (JsonException) { }
            if (!response.IsSuccessStatusCode)
                throw new IOException($"the node refused: {(int)response.StatusCode} {answer?["error"]?.GetValue<string>() ?? text}");
            return answer;
        }
    }

    static void Print(JsonNode? answer) => Console.WriteLine(answer?.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) ?? "");
}
