using System.CommandLine;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Identity;
using StoreSync.Node.Json;
using StoreSync.Waku.Communities;

namespace StoreSync.Node.Cli;

/// <summary>The offline half of <c>storesync community</c>: the owner's and authors' tools (keygen, sign-switch, sign-members,
/// sign-message); they need no running node.</summary>
internal static class CommunitySigningCommands
{
    public static IEnumerable<Command> Create() => [KeyGen(), SignSwitch(), SignMembers(), SignMessage()];

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

}
