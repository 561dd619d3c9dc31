using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StoreSync.Core;

namespace StoreSync.Simulations.Scenarios;

/// <summary>Turns the JSON tree of a scenario file into a validated <see cref="Scenario"/>, naming every bad field.</summary>
/// <remarks>
/// Top-level <c>sync</c>, <c>network</c> and <c>retention</c> objects give defaults that a node group's objects of the
/// same name override field by field. All problems are collected and reported at once.
/// </remarks>
internal static partial class ScenarioReader
{
    const long Second = 1_000_000_000;
    const long Day = 86_400 * Second;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._=,+_-]*$")]
    private static partial Regex SafeName();

    static readonly SyncSettings DefaultSync = new()
    {
        Interval = 300 * Second, Peers = 1, Parallel = false, Protocol = SyncProtocol.Native, Window = null, Lag = 20 * Second, KnownPeers = 0,
        StartDelay = 10 * Second,
    };

    static readonly LinkSettings DefaultLink = new(25_000_000, 10e6 / 8);

    public static Scenario Read(JsonNode? root, string source)
    {
        var problems = new List<string>();
        var top = new JsonFields(root, "", problems);
        if (root is null) problems.Add("(top level): the file is empty");
        string name = top.String("name", required: true) ?? "scenario";
        if (name.Length > ScenarioLimits.MaxNameLength || !SafeName().IsMatch(name))
            top.Problem("name", $"\"{name}\" must be 1–{ScenarioLimits.MaxNameLength} letters, digits or ._=,+_- (it names the output folder)");
        string? description = top.String("description");
        double seed = top.Number("seed", 1, 0, 9_007_199_254_740_991);
        long duration = top.Duration("duration", Day, Second, ScenarioLimits.MaxDuration, required: true);
        long sampleEvery = top.Duration("sampleEvery", Math.Max(Second, duration / 200), ScenarioLimits.MinSampleEvery, ScenarioLimits.MaxDuration);
        if (duration / Math.Max(1, sampleEvery) > ScenarioLimits.MaxSamples)
            top.Problem("sampleEvery", $"{Units.Format(sampleEvery)} gives more than {ScenarioLimits.MaxSamples} samples over {Units.Format(duration)}");
        var storage = top.Choice("storage", StorageKind.Memory, ("memory", StorageKind.Memory), ("rocksdb", StorageKind.RocksDb));

        var communities = ReadCommunities(top, duration, problems);
        var sync = ReadSync(top.Object("sync"), DefaultSync);
        var networkFields = top.Object("network");
        var link = ReadLink(networkFields, DefaultLink);
        var linksArray = networkFields.Array("links");
        var retention = ReadRetention(top.Object("retention"), StorageLimits.None);

        var groups = new List<NodeGroup>();
        var groupsArray = top.Array("nodeGroups", required: true);
        if (groupsArray is { Count: 0 }) top.Problem("nodeGroups", "needs at least one group");
        if (groupsArray is { Count: > ScenarioLimits.MaxGroups }) top.Problem("nodeGroups", $"at most {ScenarioLimits.MaxGroups} groups");
        else if (groupsArray is not null)
            for (int i = 0; i < groupsArray.Count; i++)
                groups.Add(ReadGroup(new JsonFields(groupsArray[i], $"nodeGroups[{i}]", problems), i, communities, sync, link, retention));
        CheckUnique(top, "nodeGroups", groups.Select(g => g.Name).ToList());
        var links = ReadLinkOverrides(networkFields, linksArray, groups, problems);
        networkFields.End();
        top.Raw("sweep"); // expanded by the loader before this point; tolerated if a caller passes it through
        top.End();

        var scenario = new Scenario
        {
            Name = name, Description = description, Seed = (ulong)seed, Duration = duration, SampleEvery = sampleEvery,
            Storage = storage, Communities = communities, Groups = groups, Links = links,
        };
        if (problems.Count == 0) CheckCost(scenario, problems);
        if (problems.Count > 0) throw new ScenarioException(source, problems);
        return scenario;
    }

    static List<Community> ReadCommunities(JsonFields top, long duration, List<string> problems)
    {
        var list = new List<Community>();
        var array = top.Array("communities", required: true);
        if (array is { Count: 0 }) top.Problem("communities", "needs at least one community");
        if (array is null) return list;
        if (array.Count > ScenarioLimits.MaxCommunities) { top.Problem("communities", $"at most {ScenarioLimits.MaxCommunities}"); return list; }
        for (int i = 0; i < array.Count; i++)
        {
            var f = new JsonFields(array[i], $"communities[{i}]", problems);
            string name = f.String("name") ?? $"community{i}";
            string pubsub = f.String("pubsubTopic", "/waku/2/rs/1/0")!;
            string content = f.String("contentTopic", $"/{name}/1/chat/proto")!;
            if (!PubsubTopic.TryValidate(pubsub, out string pubsubError)) f.Problem(f.At("pubsubTopic"), pubsubError);
            if (!ContentTopic.TryValidate(content, out string contentError)) f.Problem(f.At("contentTopic"), contentError);
            long start = f.Duration("start", 0, 0, duration);
            long stop = f.Duration("stop", duration, 0, ScenarioLimits.MaxDuration);
            if (stop <= start) f.Problem(f.At("stop"), "must be after start");
            double rate = 0;
            long? messageCount = null;
            bool hasRate = f.Present("rate"), hasCount = f.Present("messages");
            if (hasRate == hasCount) f.Problem(f.At("rate"), "give exactly one of \"rate\" (e.g. \"600/h\") and \"messages\" (a total count)");
            if (hasRate) rate = f.Quantity("rate", 0, 0, 1e6, s => (Units.Rate(s, out var e), e), "a rate such as \"600/h\"");
            if (hasCount)
            {
                int count = f.Integer("messages", 0, 0, (int)ScenarioLimits.MaxMessages);
                messageCount = count;
                rate = stop > start ? count / ((Math.Min(stop, duration) - start) / 1e9) : 0;
            }
            var arrival = f.Choice("arrival", hasCount ? Arrival.Uniform : Arrival.Poisson, ("poisson", Arrival.Poisson), ("uniform", Arrival.Uniform));
            int minSize, maxSize;
            var sizeNode = f.Raw("messageSize");
            if (sizeNode is JsonObject)
            {
                var s = f.Object("messageSize");
                minSize = (int)s.Quantity("min", 100, 0, ScenarioLimits.MaxMessageSize, SizeParser, "a size", required: true);
                maxSize = (int)s.Quantity("max", minSize, 0, ScenarioLimits.MaxMessageSize, SizeParser, "a size", required: true);
                if (maxSize < minSize) s.Problem(s.At("max"), "must be ≥ min");
                s.End();
            }
            else
            {
                // Re-read through the quantity parser (Raw only marked it known).
                minSize = maxSize = sizeNode is null ? 500 : (int)f.Quantity("messageSize", 500, 0, ScenarioLimits.MaxMessageSize, SizeParser, "a size such as \"1 KiB\" or {\"min\", \"max\"}");
            }
            f.End();
            list.Add(new Community
            {
                Name = name, PubsubTopic = pubsub, ContentTopic = content, Rate = rate, MessageCount = messageCount, Arrival = arrival,
                MinSize = minSize, MaxSize = maxSize, Start = start, Stop = Math.Min(stop, duration),
            });
        }
        CheckUnique(top, "communities", list.Select(c => c.Name).ToList());
        var topics = list.GroupBy(c => (c.PubsubTopic, c.ContentTopic)).FirstOrDefault(g => g.Count() > 1);
        if (topics is not null) top.Problem("communities", $"two communities share {topics.Key.PubsubTopic} {topics.Key.ContentTopic}");
        return list;
    }

    static (double?, string?) SizeParser(string s) => (Units.Size(s, out var e), e);

    static NodeGroup ReadGroup(JsonFields f, int index, List<Community> communities, SyncSettings sync, LinkSettings link, StorageLimits retention)
    {
        string name = f.String("name") ?? $"group{index}";
        int count = f.Integer("count", 1, 1, ScenarioLimits.MaxNodes, required: true);
        double online = f.Number("online", 1, 0, 1);
        if (f.Present("online") && online <= 0) f.Problem(f.At("online"), "must be > 0 (a node never online stores nothing)");
        long session = f.Duration("session", 3600 * Second, Second, ScenarioLimits.MaxDuration);
        var distribution = f.Choice("sessionDistribution", SessionDistribution.Exponential,
            ("exponential", SessionDistribution.Exponential), ("fixed", SessionDistribution.Fixed));
        double loss = f.Number("ingestLoss", 0, 0, 1);
        if (loss >= 1) f.Problem(f.At("ingestLoss"), "must be < 1 (1 would store nothing live)");
        var chosen = new List<int>();
        var names = f.Array("communities");
        if (names is null) chosen.AddRange(Enumerable.Range(0, communities.Count));
        else
            for (int i = 0; i < names.Count; i++)
            {
                string? c = names[i] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                int at = communities.FindIndex(x => x.Name == c);
                if (at < 0) f.Problem($"{f.At("communities")}[{i}]", $"no community named {names[i]?.ToJsonString() ?? "null"}");
                else if (!chosen.Contains(at)) chosen.Add(at);
            }
        if (names is { Count: 0 }) f.Problem(f.At("communities"), "a group must store at least one community");
        var group = new NodeGroup
        {
            Name = name, Count = count, OnlineFraction = online, SessionLength = session, SessionDistribution = distribution,
            IngestLoss = loss, Communities = chosen,
            Sync = ReadSync(f.Object("sync"), sync), Network = ReadLink(f.Object("network"), link, end: true),
            Limits = ReadRetention(f.Object("retention"), retention),
        };
        f.End();
        return group;
    }

    static SyncSettings ReadSync(JsonFields f, SyncSettings d)
    {
        var s = new SyncSettings
        {
            Interval = f.Duration("interval", d.Interval, Second, ScenarioLimits.MaxDuration),
            Peers = f.Integer("peers", d.Peers, 0, 64),
            Parallel = f.Boolean("parallel", d.Parallel),
            Protocol = f.Choice("protocol", d.Protocol, ("native", SyncProtocol.Native), ("nwaku", SyncProtocol.Nwaku)),
            Window = f.DurationOrNull("window", d.Window, Second, ScenarioLimits.MaxDuration, required: false, allowNone: true),
            Lag = f.Duration("lag", d.Lag, 0, 86_400 * Second),
            KnownPeers = f.Integer("knownPeers", d.KnownPeers, 0, ScenarioLimits.MaxNodes),
            StartDelay = f.Duration("startDelay", d.StartDelay, 0, 86_400 * Second),
        };
        f.End();
        return s;
    }

    static LinkSettings ReadLink(JsonFields f, LinkSettings d, bool end = false)
    {
        var link = new LinkSettings(
            f.Duration("latency", d.Latency, 0, 60 * Second),
            f.Quantity("bandwidth", d.BytesPerSecond, 1, 1e12, s => (Units.Bandwidth(s, out var e), e), "a bandwidth such as \"10 Mbit/s\""));
        if (end) f.End();
        return link;
    }

    static StorageLimits ReadRetention(JsonFields f, StorageLimits d)
    {
        var limits = new StorageLimits(
            f.Integer("maxMessages", (int)Math.Min(d.MaxMessages, int.MaxValue), 0, int.MaxValue),
            f.DurationOrNull("maxAge", d.MaxAge, Second, ScenarioLimits.MaxDuration, required: false, allowNone: true) ?? 0);
        f.End();
        return limits;
    }

    static List<LinkOverride> ReadLinkOverrides(JsonFields network, JsonArray? array, List<NodeGroup> groups, List<string> problems)
    {
        var list = new List<LinkOverride>();
        if (array is null) return list;
        for (int i = 0; i < array.Count; i++)
        {
            var f = new JsonFields(array[i], $"{network.At("links")}[{i}]", problems);
            var between = f.Array("between", required: true);
            int a = -1, b = -1;
            if (between is not null)
            {
                if (between.Count != 2) f.Problem(f.At("between"), "give two group names");
                else
                {
                    a = Group(0);
                    b = Group(1);
                }
                int Group(int k)
                {
                    string? g = between[k] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                    int at = groups.FindIndex(x => x.Name == g);
                    if (at < 0) f.Problem($"{f.At("between")}[{k}]", $"no node group named {between[k]?.ToJsonString() ?? "null"}");
                    return at;
                }
            }
            if (!f.Present("latency") && !f.Present("bandwidth")) f.Problem(f.Path, "give latency and/or bandwidth");
            var link = ReadLink(f, new LinkSettings(-1, -1));
            f.End();
            if (a >= 0 && b >= 0) list.Add(new LinkOverride(a, b, link));
        }
        return list;
    }

    static void CheckUnique(JsonFields f, string field, List<string> names)
    {
        var dup = names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) f.Problem(field, $"the name \"{dup.Key}\" is used twice");
    }

    // Bounded cost: refuse runs whose expected size would take hours or exhaust memory, naming what to reduce.
    static void CheckCost(Scenario s, List<string> problems)
    {
        double messages = s.ExpectedMessages;
        if (messages > ScenarioLimits.MaxMessages)
            problems.Add($"communities: about {messages:N0} messages expected; at most {ScenarioLimits.MaxMessages:N0} (lower a rate or the duration)");
        double held = s.Groups.Sum(g => g.Count * g.Communities.Sum(c => s.Communities[c].ExpectedMessages(s.Duration)));
        if (held > ScenarioLimits.MaxHeldItems)
            problems.Add($"nodeGroups: about {held:N0} stored items expected over all nodes; at most {ScenarioLimits.MaxHeldItems:N0}");
        if (s.NodeCount > ScenarioLimits.MaxNodes) problems.Add($"nodeGroups: {s.NodeCount} nodes; at most {ScenarioLimits.MaxNodes}");
        double sessions = s.Groups.Sum(g => g.Count * g.OnlineFraction * g.Sync.Peers * g.Communities.Count * (double)s.Duration / g.Sync.Interval);
        if (sessions > ScenarioLimits.MaxSessions)
            problems.Add($"nodeGroups: about {sessions:N0} sync sessions expected; at most {ScenarioLimits.MaxSessions:N0} (raise sync.interval or lower sync.peers)");
        if (s.Storage == StorageKind.RocksDb && s.NodeCount > ScenarioLimits.MaxRocksDbNodes)
            problems.Add($"storage: \"rocksdb\" keeps one database per node open; at most {ScenarioLimits.MaxRocksDbNodes} nodes");
        for (int i = 0; i < s.Groups.Count; i++)
            if (s.Groups[i].Sync.KnownPeers > 0 && s.Groups[i].Sync.KnownPeers < s.Groups[i].Sync.Peers)
                problems.Add($"nodeGroups[{i}].sync.knownPeers: {s.Groups[i].Sync.KnownPeers} is fewer than sync.peers ({s.Groups[i].Sync.Peers})");
    }
}
