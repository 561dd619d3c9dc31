using System.Globalization;
using System.Text.Json;

namespace StoreSync.Testing.Node;

/// <summary>What tests read off a running node: Prometheus samples and the stored hashes of a topic through its REST store API.</summary>
public static class NodeReadings
{
    /// <summary>The value of the first Prometheus sample named <paramref name="name"/> carrying every given label, or null.</summary>
    public static double? Sample(string metrics, string name, params (string Key, string Value)[] labels)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length <= name.Length || (line[name.Length] != '{' && line[name.Length] != ' ')) continue;
            if (!labels.All(l => line.Contains($"{l.Key}=\"{l.Value}\"", StringComparison.Ordinal))) continue;
            return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }
        return null;
    }

    /// <summary>Every stored message hash of <paramref name="pubsubTopic"/>, ascending, through <c>GET /store/v3/messages</c> (duplicates kept, to be counted).</summary>
    public static async Task<List<string>> StoredHashesAsync(HttpClient http, StoreNodeProcess node, string pubsubTopic, CancellationToken ct, int maxPages = 100)
    {
        var hashes = new List<string>();
        string? cursor = null;
        for (int page = 0; page < maxPages; page++)
        {
            var url = new Uri(node.Rest, $"/store/v3/messages?pubsubTopic={Uri.EscapeDataString(pubsubTopic)}&pageSize=100&ascending=true"
                + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            var root = JsonDocument.Parse(await http.GetStringAsync(url, ct)).RootElement;
            foreach (var m in root.GetProperty("messages").EnumerateArray()) hashes.Add(m.GetProperty("messageHash").GetString()!);
            if (!root.TryGetProperty("paginationCursor", out var c)) return hashes;
            cursor = c.GetString();
        }
        throw new InvalidOperationException($"more than {maxPages} pages");
    }

    /// <summary>Waits (at most 40 s) until the node's gossipsub mesh of <paramref name="pubsubTopic"/> holds at least <paramref name="peers"/> peers (its metrics).</summary>
    public static async Task WaitForMeshAsync(HttpClient http, StoreNodeProcess node, string pubsubTopic, int peers, CancellationToken ct)
    {
        double? mesh = null;
        for (int i = 0; i < 400; i++)
        {
            mesh = Sample(await http.GetStringAsync(node.Metrics, ct), "storesync_relay_mesh_peers", ("pubsub_topic", pubsubTopic));
            if (mesh >= peers) return;
            await Task.Delay(100, ct);
        }
        throw new TimeoutException($"mesh of {pubsubTopic} has {mesh} peers, not {peers}:\n{node.Output}");
    }
}
