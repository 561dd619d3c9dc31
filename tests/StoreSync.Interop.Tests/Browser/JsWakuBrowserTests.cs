using System.Net.Http.Json;
using System.Text.Json;
using StoreSync.Core;
using StoreSync.Testing.Node;

namespace StoreSync.Interop.Tests.Browser;

/// <summary>The browser proof: a page bundling @waku/sdk, in Debian's headless Chromium, dials the node's /ws address, pages
/// through 500 stored messages forward and backward in pages of 20, publishes one by light push, and every hash it reports
/// matches the store's; the screenshot is kept among the test artefacts.</summary>
public sealed class JsWakuBrowserTests
{
    const string Pubsub = "/waku/2/rs/1/0";
    const string ContentTopic = "/browser/1/history/proto";
    const int Stored = 500, PageSize = 20;

    /// <summary>Every hash the store holds on the content topic, oldest first, read through the REST API 100 at a time.</summary>
    static async Task<List<string>> StoredHashesAsync(HttpClient http, CancellationToken ct)
    {
        var hashes = new List<string>();
        string? cursor = null;
        for (int page = 0; page < 100; page++)
        {
            var url = $"/store/v3/messages?pubsubTopic={Uri.EscapeDataString(Pubsub)}&contentTopics={Uri.EscapeDataString(ContentTopic)}&pageSize=100"
                + (cursor is null ? "" : "&cursor=" + cursor);
            var body = JsonDocument.Parse(await http.GetStringAsync(url, ct)).RootElement;
            hashes.AddRange(body.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("messageHash").GetString()!.Replace("0x", "", StringComparison.Ordinal)));
            if (!body.TryGetProperty("paginationCursor", out var next) || next.GetString() is not { Length: > 0 } c) return hashes;
            cursor = c;
        }
        throw new InvalidOperationException("more than 100 pages of 100");
    }

    [Fact]
    public async Task Chromium_pages_500_messages_both_ways_over_ws_and_light_pushes_one()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(300));
        var ct = timeout.Token;
        var bundle = BrowserPage.BuildAsync(); // bundled while the node starts and fills
        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Args = ["--shard", "0", "--websocket-support", "--websocket-port", "0"] });
        using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(30) };
        long first = Timestamp.Now() - 10 * 60 * Timestamp.NanosPerSecond;
        for (int i = 0; i < Stored; i++)
        {
            var push = await http.PostAsJsonAsync("/lightpush/v3/message", new
            {
                pubsubTopic = Pubsub,
                message = new { payload = Convert.ToBase64String(BitConverter.GetBytes(i)), contentTopic = ContentTopic, timestamp = first + i * Timestamp.NanosPerSecond / 1000 },
            }, ct);
            push.EnsureSuccessStatusCode();
        }
        var stored = await StoredHashesAsync(http, ct);
        Assert.Equal(Stored, stored.Count);

        var screenshot = Path.Combine(TestArtifacts.Directory(), "browser-js-waku.png");
        var query = $"addr={Uri.EscapeDataString(node.WebSocketAddress)}&cluster=1&shard=0&contentTopic={Uri.EscapeDataString(ContentTopic)}&pageSize={PageSize}";
        var page = await BrowserPage.RunAsync(await bundle, screenshot, query);

        Assert.Equal(node.PeerId, page.Peer);
        Assert.Equal(node.WebSocketAddress, page.RemoteAddr);
        Assert.Equal(("/noise", "/yamux/1.0.0"), (page.Encryption, page.Multiplexer));
        Assert.Contains("HeadlessChrome", page.UserAgent);
        // Forward: oldest first, 25 pages of 20. Backward: newest page first, each page ascending (as nwaku).
        Assert.Equal(stored.Chunk(PageSize).Select(p => p.ToList()).ToList(), page.Forward);
        Assert.Equal(stored.Chunk(PageSize).Reverse().Select(p => p.ToList()).ToList(), page.Backward);

        // The page's light push is in the store, under the hash the page computed.
        var after = await StoredHashesAsync(http, ct);
        Assert.Equal(Stored + 1, after.Count);
        Assert.Equal(stored, after.Where(h => h != page.Pushed));
        Assert.Contains(page.Pushed, after);

        var (width, _) = TestArtifacts.CheckPng(screenshot, minBytes: 10_000);
        Assert.Equal(1100, width);
    }
}
