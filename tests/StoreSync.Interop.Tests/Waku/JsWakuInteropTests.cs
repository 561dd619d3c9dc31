using System.Text.Json;
using StoreSync.Testing.Node;

namespace StoreSync.Interop.Tests.Waku;

/// <summary>js-waku (@waku/sdk in Node) pushes to a real storesync node by light push and pages through its history with Store v3:
/// forward and backward over several pages, one and two content topics, a time window both ways and a hash lookup, hash for hash and
/// page for page.</summary>
public sealed class JsWakuInteropTests
{
    const string ChatA = "/interop/1/chat-a/proto", ChatB = "/interop/1/chat-b/proto";

    /// <summary>The hashes as js-waku yielded them, grouped by page.</summary>
    static List<List<string>> Pages(List<JsWakuClient.Message> ms) => ms.GroupBy(m => m.Page).Select(g => g.Select(m => m.Hash).ToList()).ToList();

    /// <summary>Backward pages of <paramref name="size"/> over ascending <paramref name="ascending"/>: the newest page first, each ascending.</summary>
    static List<List<string>> BackwardPages(List<string> ascending, int size)
    {
        var pages = new List<List<string>>();
        for (int end = ascending.Count; end > 0; end -= size) pages.Add(ascending.GetRange(Math.Max(0, end - size), Math.Min(size, end)));
        return pages;
    }

    [Fact]
    public async Task Light_pushed_messages_come_back_hash_for_hash_over_every_query_shape()
    {
        await using var node = await StoreNodeProcess.StartAsync("--cluster-id", "1", "--shard", "0", "--shard", "1");
        var pushedA = await JsWakuClient.RunAsync("push", node.Address, "--cluster", "1", "--shard", "0", "--content-topic", ChatA, "--count", "12");
        var pushedB = await JsWakuClient.RunAsync("push", node.Address, "--cluster", "1", "--shard", "0", "--content-topic", ChatB, "--count", "5");
        var legacy = await JsWakuClient.RunAsync("push", node.Address, "--cluster", "1", "--shard", "0", "--content-topic", ChatA, "--count", "3", "--legacy");
        var allA = pushedA.Concat(legacy).ToList();
        Assert.Equal(15, allA.Select(m => m.Hash).Distinct().Count());

        static List<string> InOrder(IEnumerable<JsWakuClient.Message> ms) => ms.OrderBy(m => m.Timestamp).ThenBy(m => m.Hash, StringComparer.Ordinal).Select(m => m.Hash).ToList();

        // Forward over several pages: exactly the pushed messages, oldest first.
        var forward = await JsWakuClient.RunAsync("query", node.Address, "--cluster", "1", "--shard", "0", "--content-topic", ChatA, "--page-size", "4");
        Assert.Equal(InOrder(allA).Chunk(4).Select(p => p.ToList()).ToList(), Pages(forward));
        Assert.All(forward, m => Assert.Equal(ChatA, m.ContentTopic)); // ChatB is stored on the same shard: the filter left it out
        Assert.All(forward, m => Assert.StartsWith("interop message", m.Payload));

        // Backward over two content topics: every message of both, hash for hash. As nwaku, every page is in ascending order and the
        // pages come newest first: js-waku takes the first (oldest) entry of a page as the next cursor.
        var backward = await JsWakuClient.RunAsync("query", node.Address, "--cluster", "1", "--shard", "0", "--content-topic", $"{ChatA},{ChatB}", "--page-size", "3", "--backward");
        Assert.Equal(BackwardPages(InOrder(allA.Concat(pushedB)), 3), Pages(backward));
        Assert.Equal(7, backward.Max(m => m.Page));

        // A time window: exactly the messages whose timestamps fall inside it. js-waku turns the bounds into nanoseconds with
        // double arithmetic (getTime() * 1e6), which rounds by up to ±128 ns at today's magnitudes; the server compares exactly,
        // so the expectation uses the bounds as js-waku sends them.
        var times = allA.Select(m => m.Timestamp).Order().ToList();
        long from = times[3], to = times[9];
        static long JsNanos(long ms) => (long)(ms * 1_000_000d);
        bool Inside(JsWakuClient.Message m) => m.Timestamp * 1_000_000 >= JsNanos(from) && m.Timestamp * 1_000_000 <= JsNanos(to);
        var window = await JsWakuClient.RunAsync("query", node.Address, "--cluster", "1", "--shard", "0", "--content-topic", ChatA,
            "--page-size", "2", "--time-start", from.ToString(), "--time-end", to.ToString());
        Assert.NotEmpty(window);
        Assert.True(InOrder(allA.Where(Inside)).SequenceEqual(window.Select(m => m.Hash)),
            $"window {from}..{to}: pushed {string.Join(",", allA.OrderBy(m => m.Timestamp).Select(m => $"{m.Timestamp}:{m.Hash[..6]}"))}; got {string.Join(",", window.Select(m => $"{m.Timestamp}:{m.Hash[..6]}"))}");

        // The same window backward, one content topic among two stored: the same messages, newest page first.
        var windowBack = await JsWakuClient.RunAsync("query", node.Address, "--cluster", "1", "--shard", "0", "--content-topic", ChatA,
            "--page-size", "2", "--backward", "--time-start", from.ToString(), "--time-end", to.ToString());
        Assert.Equal(BackwardPages(InOrder(allA.Where(Inside)), 2), Pages(windowBack));
        Assert.True(windowBack.Max(m => m.Page) > 1);
        Assert.All(windowBack, m => Assert.Equal(ChatA, m.ContentTopic));

        // A lookup by hash (js-waku's messageHashes): exactly the known hashes come back, an unknown one is absent.
        var wanted = new[] { allA[2], allA[11], pushedB[4] };
        var unknown = new string('e', 64);
        var lookup = await JsWakuClient.RunAsync("query", node.Address, "--cluster", "1", "--shard", "0", "--content-topic", $"{ChatA},{ChatB}",
            "--hashes", string.Join(",", wanted.Select(m => m.Hash).Append(unknown)));
        Assert.Equal(InOrder(wanted), lookup.Select(m => m.Hash).ToList());

        // The node's REST API agrees with what js-waku saw.
        using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(20) };
        var rest = JsonDocument.Parse(await http.GetStringAsync($"/store/v3/messages?pubsubTopic=%2Fwaku%2F2%2Frs%2F1%2F0&contentTopics={Uri.EscapeDataString(ChatA)}&pageSize=100"));
        var restHashes = rest.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("messageHash").GetString()!).ToList();
        Assert.Equal(InOrder(allA).Select(h => "0x" + h), restHashes); // nwaku's REST writes hashes as 0x-hex
    }
}
