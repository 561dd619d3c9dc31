using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using StoreSync.Core;

namespace StoreSync.Node.Cli;

/// <summary>The management half of <c>storesync community</c>: list, show, add, set, remove, enable, disable and settings,
/// each a call of the running node's admin REST API (<see cref="CommunityAdminClient"/>).</summary>
internal static class CommunityAdminCommands
{
    public static IEnumerable<Command> Create() => [List(), Show(), Add(), Set(), Remove(), Enable(), Disable(), Settings()];

    static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print the node's JSON answer" };
        var command = new Command("list", "List the communities with their serving state and stored figures") { json };
        command.SetAction(async (parse, ct) =>
        {
            var answer = await CommunityAdminClient.CallAsync(parse, HttpMethod.Get, "/admin/v1/communities", null, ct);
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
            Print(await CommunityAdminClient.CallAsync(parse, HttpMethod.Get, $"/admin/v1/communities/{Uri.EscapeDataString(parse.GetValue(name)!)}", null, ct));
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
            Print(await CommunityAdminClient.CallAsync(parse, HttpMethod.Put, $"/admin/v1/communities/{Uri.EscapeDataString(parse.GetValue(name)!)}", body, ct, ifNoneMatch: true));
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
            Print(await CommunityAdminClient.CallAsync(parse, HttpMethod.Patch, $"/admin/v1/communities/{Uri.EscapeDataString(parse.GetValue(name)!)}", body, ct));
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
            var answer = await CommunityAdminClient.CallAsync(parse, HttpMethod.Delete, $"/admin/v1/communities/{Uri.EscapeDataString(community)}?deleteData={(parse.GetValue(DeleteData) ? "true" : "false")}", null, ct);
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
            Print(await CommunityAdminClient.CallAsync(parse, HttpMethod.Post, $"/admin/v1/communities/{Uri.EscapeDataString(parse.GetValue(name)!)}/enable", null, ct));
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
            Print(await CommunityAdminClient.CallAsync(parse, HttpMethod.Post, $"/admin/v1/communities/{Uri.EscapeDataString(community)}/disable?deleteData={(parse.GetValue(DeleteData) ? "true" : "false")}", null, ct));
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
            Print(await CommunityAdminClient.CallAsync(parse, body.Count == 0 ? HttpMethod.Get : HttpMethod.Patch, "/admin/v1/settings", body.Count == 0 ? null : body, ct));
            return 0;
        });
        return command;
    }

    /// <summary>Polls the deletion's progress until it finishes (bounded: one poll a second, at most 24 h).</summary>
    static async Task<int> WaitAsync(ParseResult parse, string community, CancellationToken ct)
    {
        for (int polls = 0; polls < 24 * 3600; polls++)
        {
            var answer = await CommunityAdminClient.CallAsync(parse, HttpMethod.Get, $"/admin/v1/communities/{Uri.EscapeDataString(community)}", null, ct, allowNotFound: true);
            var deletion = answer?["deletion"];
            if (deletion is null) { Console.Error.WriteLine("deletion: no longer reported (the community was removed and the node restarted?)"); return 0; }
            string state = deletion["state"]!.GetValue<string>();
            Console.Error.WriteLine($"deletion: {state}, {deletion["deleted"]} of about {deletion["total"]} messages deleted");
            if (state != "running") return state == "done" ? 0 : 1;
            await Task.Delay(1000, ct);
        }
        return 1;
    }


    static Argument<string> NameArgument() => new("NAME") { Description = "Community name" };

    static void Print(JsonNode? answer) => Console.WriteLine(answer?.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) ?? "");
}
