using System.Text.Json;
using StoreSync.Testing.Interop;

namespace StoreSync.Interop.Tests.Waku;

/// <summary>Runs tests/Interop/waku/waku-client.mjs (@waku/sdk over TCP/Noise/Yamux) against a node; bounded in time.</summary>
public static class JsWakuClient
{
    public static string ScriptDirectory => InteropScripts.Directory("waku", "waku-client.mjs");

    /// <summary>A message as js-waku reported it; <paramref name="Page"/> is the 1-based page js-waku's store generator yielded it in (0 for a push).</summary>
    public sealed record Message(string Hash, long Timestamp, string? ContentTopic, string? Payload, int Page = 0);

    public static async Task<List<Message>> RunAsync(params string[] args)
    {
        var dir = ScriptDirectory;
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "@waku", "sdk")))
            throw new InvalidOperationException($"@waku/sdk is not installed in {dir}: run tests/run.sh (it runs npm ci)");
        var result = await NodeScript.RunAsync("waku", "waku-client.mjs", args, TimeSpan.FromSeconds(120), ["--import", "./withresolvers-polyfill.mjs"]);
        if (result.ExitCode != 0) throw new InvalidOperationException($"waku-client.mjs {string.Join(' ', args)} exited {result.ExitCode}: {result.Stderr}");
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("hash", out _))
            .Select(e => new Message(e.GetProperty("hash").GetString()!, e.GetProperty("timestamp").GetInt64(),
                e.TryGetProperty("contentTopic", out var ct) ? ct.GetString() : null, e.TryGetProperty("payload", out var p) ? p.GetString() : null,
                e.TryGetProperty("page", out var page) ? page.GetInt32() : 0))
            .ToList();
    }
}
