using System.Text.Json;
using System.Text.Json.Nodes;

namespace StoreSync.Simulations.Scenarios;

/// <summary>Reads the fields of one JSON object of a scenario, recording a problem (with the field's path) for each bad value.</summary>
/// <remarks>Every field read is remembered, so <see cref="End"/> can name fields nobody asked for (misspellings).</remarks>
internal sealed class JsonFields
{
    readonly JsonObject? _object;
    readonly List<string> _problems;
    readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public JsonFields(JsonNode? node, string path, List<string> problems)
    {
        Path = path;
        _problems = problems;
        if (node is JsonObject o) _object = o;
        else if (node is not null) Problem(path, $"expected an object, got {Kind(node)}");
    }

    public string Path { get; }

    public bool Present(string name) => _object?.ContainsKey(name) == true;

    public string At(string name) => Path == "" ? name : $"{Path}.{name}";

    public void Problem(string path, string message) => _problems.Add($"{(path == "" ? "(top level)" : path)}: {message}");

    static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
        _ => "a value",
    };

    JsonNode? Take(string name)
    {
        _known.Add(name);
        return _object?[name];
    }

    public JsonNode? Raw(string name) => Take(name);

    public string? String(string name, string? fallback = null, bool required = false)
    {
        var node = Take(name);
        if (node is null)
        {
            if (required) Problem(At(name), "required");
            return fallback;
        }
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
        Problem(At(name), $"expected a string, got {Kind(node)}");
        return fallback;
    }

    public bool Boolean(string name, bool fallback)
    {
        var node = Take(name);
        if (node is null) return fallback;
        if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
        Problem(At(name), $"expected true or false, got {Kind(node)}");
        return fallback;
    }

    public double Number(string name, double fallback, double min, double max, bool required = false)
    {
        var node = Take(name);
        if (node is null)
        {
            if (required) Problem(At(name), "required");
            return fallback;
        }
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            double d = v.GetValue<double>();
            if (d >= min && d <= max) return d;
            Problem(At(name), $"{d} is out of range [{min}, {max}]");
            return fallback;
        }
        Problem(At(name), $"expected a number, got {Kind(node)}");
        return fallback;
    }

    public int Integer(string name, int fallback, int min, int max, bool required = false)
    {
        var node = Raw(name);
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.GetValue<double>() is var d && d != Math.Floor(d))
        {
            Problem(At(name), $"expected a whole number, got {node.ToJsonString()}");
            return fallback;
        }
        return (int)Number(name, fallback, min, max, required);
    }

    /// <summary>A duration given as a string with a unit ("5m") or a number of seconds.</summary>
    public long Duration(string name, long fallback, long min, long max, bool required = false) =>
        DurationOrNull(name, fallback, min, max, required, allowNone: false) ?? fallback;

    /// <summary>A duration, or "none"/"all" (returned as null) where the field allows it.</summary>
    public long? DurationOrNull(string name, long? fallback, long min, long max, bool required, bool allowNone)
    {
        var node = Take(name);
        if (node is null)
        {
            if (required) Problem(At(name), "required (a duration such as \"90s\", \"5m\", \"2h\", \"3d\")");
            return fallback;
        }
        long? value = null;
        string? error = null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            string s = v.GetValue<string>();
            if (allowNone && (s == "none" || s == "all")) return null;
            value = Units.Duration(s, out error);
        }
        else if (node is JsonValue n && n.GetValueKind() == JsonValueKind.Number) value = Units.Duration(n.GetValue<double>(), out error);
        else error = $"expected a duration, got {Kind(node)}";
        if (value is null) { Problem(At(name), error!); return fallback; }
        if (value < min || value > max)
        {
            Problem(At(name), $"{Units.Format(value.Value)} is out of range [{Units.Format(min)}, {Units.Format(max)}]");
            return fallback;
        }
        return value;
    }

    /// <summary>A quantity given as a number (in base units) or a string with a unit, parsed by <paramref name="parse"/>.</summary>
    public double Quantity(string name, double fallback, double min, double max, Func<string, (double?, string?)> parse, string what, bool required = false)
    {
        var node = Take(name);
        if (node is null)
        {
            if (required) Problem(At(name), $"required ({what})");
            return fallback;
        }
        double? value = null;
        string? error = null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String) (value, error) = parse(v.GetValue<string>());
        else if (node is JsonValue n && n.GetValueKind() == JsonValueKind.Number) value = n.GetValue<double>();
        else error = $"expected {what}, got {Kind(node)}";
        if (value is null) { Problem(At(name), error!); return fallback; }
        if (!(value >= min && value <= max)) { Problem(At(name), $"{value} is out of range [{min}, {max}]"); return fallback; }
        return value.Value;
    }

    public T Choice<T>(string name, T fallback, params (string Name, T Value)[] choices)
    {
        string? s = String(name);
        if (s is null) return fallback;
        foreach (var (n, value) in choices)
            if (string.Equals(n, s, StringComparison.OrdinalIgnoreCase)) return value;
        Problem(At(name), $"\"{s}\" is not one of {string.Join(", ", choices.Select(c => $"\"{c.Name}\""))}");
        return fallback;
    }

    public JsonArray? Array(string name, bool required = false)
    {
        var node = Take(name);
        if (node is null)
        {
            if (required) Problem(At(name), "required (an array)");
            return null;
        }
        if (node is JsonArray a) return a;
        Problem(At(name), $"expected an array, got {Kind(node)}");
        return null;
    }

    public JsonFields Object(string name) => new(Take(name), At(name), _problems);

    /// <summary>Reports every field of the object that was never read, suggesting the closest known name.</summary>
    public void End()
    {
        if (_object is null) return;
        foreach (var (key, _) in _object)
        {
            if (_known.Contains(key)) continue;
            string? near = _known.OrderBy(k => Distance(k.ToLowerInvariant(), key.ToLowerInvariant())).FirstOrDefault();
            string hint = near is not null && Distance(near.ToLowerInvariant(), key.ToLowerInvariant()) <= Math.Max(2, key.Length / 3)
                ? $" (did you mean \"{near}\"?)" : $" (known: {string.Join(", ", _known.Order(StringComparer.Ordinal))})";
            Problem(At(key), "unknown field" + hint);
        }
    }

    static int Distance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) row[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int up = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = up;
            }
        }
        return row[b.Length];
    }
}
