using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StoreSync.Node.Cli;

/// <summary>The REST client of the node's community admin API that the management commands share: the <c>--node</c> address
/// and one call with the node's refusals turned into errors a person can read.</summary>
internal static class CommunityAdminClient
{
    public static readonly Option<string> Node = new("--node")
    {
        Description = "REST address of the running node (its admin API answers on the loopback interface only)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("STORESYNC_NODE") ?? "http://127.0.0.1:8645",
        Recursive = true,
    };

    public static async Task<JsonNode?> CallAsync(ParseResult parse, HttpMethod method, string path, JsonObject? body, CancellationToken ct,
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
}
