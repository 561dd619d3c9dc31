using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StoreSync.Simulations.Scenarios;

/// <summary>Loads scenario files: parses JSON, applies command-line overrides, expands a <c>sweep</c> into variants, validates each.</summary>
/// <remarks>
/// A sweep maps field paths (<c>"sync.interval"</c>, <c>"nodeGroups[0].ingestLoss"</c>) to lists of values; every
/// combination becomes a scenario named after its values, e.g. <c>tradeoff_interval=1m_peers=2</c>.
/// </remarks>
public static class ScenarioLoader
{
    /// <summary>Largest scenario file read (a scenario is a few hundred bytes; this bounds a mistaken path to a big file).</summary>
    public const int MaxFileBytes = 1 << 20;

    static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 32 };

    public static IReadOnlyList<Scenario> LoadFile(string path, IReadOnlyList<string>? overrides = null)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new ScenarioException(path, ["the file does not exist"]);
        if (info.Length > MaxFileBytes) throw new ScenarioException(path, [$"the file is {info.Length:N0} bytes; a scenario is at most {MaxFileBytes:N0}"]);
        return Load(File.ReadAllText(path), path, overrides);
    }

    public static IReadOnlyList<Scenario> Load(string text, string source, IReadOnlyList<string>? overrides = null)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text, documentOptions: Options);
        }
        catch (JsonException e)
        {
            throw new ScenarioException(source, [$"not valid JSON: {e.Message}"]);
        }
        var problems = new List<string>();
        foreach (var o in overrides ?? [])
        {
            int eq = o.IndexOf('=');
            if (eq <= 0) { problems.Add($"--set {o}: give path=value, e.g. sync.peers=4"); continue; }
            Set(root, o[..eq].Trim(), ParseValue(o[(eq + 1)..]), $"--set {o}", problems);
        }
        var variants = new List<(JsonNode? Root, string Name)>();
        if (root is JsonObject obj && obj["sweep"] is { } sweep)
        {
            obj.Remove("sweep");
            variants.AddRange(Expand(obj, sweep, problems));
        }
        else variants.Add((root, ""));
        if (problems.Count > 0) throw new ScenarioException(source, problems);
        var result = new List<Scenario>();
        foreach (var (variant, suffix) in variants)
        {
            var scenario = ScenarioReader.Read(variant, suffix == "" ? source : $"{source} (sweep {suffix})");
            result.Add(suffix == "" ? scenario : scenario with { Name = scenario.Name + suffix });
        }
        return result;
    }

    static JsonNode? ParseValue(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text); // a bare word such as 5m or nwaku
        }
    }

    static IEnumerable<(JsonNode?, string)> Expand(JsonObject root, JsonNode sweep, List<string> problems)
    {
        if (sweep is not JsonObject axes || axes.Count == 0)
        {
            problems.Add("sweep: expected an object of \"field.path\": [values]");
            return [];
        }
        var list = new List<(string Path, JsonArray Values)>();
        foreach (var (path, values) in axes)
        {
            if (values is not JsonArray { Count: > 0 } a) { problems.Add($"sweep.{path}: expected a non-empty array of values"); continue; }
            list.Add((path, a));
        }
        long total = list.Aggregate(1L, (n, axis) => n * axis.Values.Count);
        if (total > ScenarioLimits.MaxSweepVariants)
        {
            problems.Add($"sweep: {total} combinations; at most {ScenarioLimits.MaxSweepVariants}");
            return [];
        }
        var output = new List<(JsonNode?, string)>();
        var index = new int[list.Count];
        for (long k = 0; k < total; k++)
        {
            var copy = root.DeepClone();
            string name = "";
            for (int a = 0; a < list.Count; a++)
            {
                var value = list[a].Values[index[a]];
                Set(copy, list[a].Path, value?.DeepClone(), $"sweep.{list[a].Path}", problems);
                name += $"_{list[a].Path.Split('.')[^1]}={Label(value)}";
            }
            output.Add((copy, name));
            for (int a = list.Count - 1; a >= 0; a--)
            {
                if (++index[a] < list[a].Values.Count) break;
                index[a] = 0;
            }
        }
        return output;
    }

    static string Label(JsonNode? value)
    {
        string s = value is JsonValue v && v.TryGetValue<string>(out var str) ? str
            : value is JsonValue n && n.TryGetValue<double>(out double d) ? d.ToString(CultureInfo.InvariantCulture)
            : value?.ToJsonString() ?? "null";
        var chars = s.Replace("/", "per").Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-').ToArray();
        return chars.Length == 0 ? "x" : new string(chars);
    }

    /// <summary>Sets the field at a dotted path with [i] indexes, creating objects on the way (an index must exist).</summary>
    static void Set(JsonNode? root, string path, JsonNode? value, string what, List<string> problems)
    {
        if (root is not JsonObject) { problems.Add($"{what}: the scenario is not an object"); return; }
        var parts = new List<(string Name, int? Index)>();
        foreach (var segment in path.Split('.'))
        {
            string name = segment;
            int? index = null;
            int open = segment.IndexOf('[');
            if (open >= 0)
            {
                if (!segment.EndsWith(']') || !int.TryParse(segment[(open + 1)..^1], out int i) || i < 0)
                {
                    problems.Add($"{what}: bad index in \"{segment}\"");
                    return;
                }
                name = segment[..open];
                index = i;
            }
            if (name.Length == 0) { problems.Add($"{what}: empty field name in \"{path}\""); return; }
            parts.Add((name, index));
        }
        JsonNode current = root;
        for (int p = 0; p < parts.Count; p++)
        {
            var (name, index) = parts[p];
            bool last = p == parts.Count - 1;
            if (current is not JsonObject o) { problems.Add($"{what}: \"{name}\" is not inside an object"); return; }
            if (index is null)
            {
                if (last) { o[name] = value; return; }
                if (o[name] is null) o[name] = new JsonObject();
                current = o[name]!;
                continue;
            }
            if (o[name] is not JsonArray a || index >= a.Count)
            {
                problems.Add($"{what}: {name}[{index}] does not exist");
                return;
            }
            if (last) { a[index.Value] = value; return; }
            current = a[index.Value]!;
        }
    }
}
