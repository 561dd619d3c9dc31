using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p;
using StoreSync.Storage;
using StoreSync.Storage.Query;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Waku.Tests;

/// <summary>Our Store v3 client against our server over a real libp2p connection, for every query shape.</summary>
public sealed class StoreQueryOverLibp2pTests : IAsyncLifetime
{
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    CancellationToken Timeout => _timeout.Token;
    WakuNodeFixture _node = null!;
    StoreQueryClient _client = null!;
    List<(string Pubsub, WakuMessage Message)> _messages = [];

    public async Task InitializeAsync()
    {
        _node = await WakuNodeFixture.StartAsync();
        _client = new StoreQueryClient(_node.Client);
        var random = new Random(5);
        _messages = Enumerable.Range(0, 300).Select(i => (WakuNodeFixture.Served[i % 2],
            TempStore.Message($"/app/1/t{random.Next(3)}/proto", 1_000 + random.Next(100), $"m{i}"))).ToList();
        _node.Store.Store.Ingest(_messages.Select(m => new IngestItem(m.Pubsub, m.Message)).ToList());
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _timeout.Dispose();
    }

    static IEnumerable<StoreQueryRequest> Shapes()
    {
        StoreQueryRequest R(Action<StoreQueryRequest> set) { var r = new StoreQueryRequest { RequestId = Guid.NewGuid().ToString() }; set(r); return r; }
        yield return R(r => { r.PubsubTopic = "/waku/2/rs/1/0"; r.ContentTopics.Add("/app/1/t0/proto"); r.PaginationForward = true; r.IncludeData = true; r.PaginationLimit = 7; });
        yield return R(r => { r.PubsubTopic = "/waku/2/rs/1/0"; r.ContentTopics.Add("/app/1/t0/proto"); r.ContentTopics.Add("/app/1/t2/proto"); r.PaginationLimit = 9; });
        yield return R(r => { r.PubsubTopic = "/waku/2/rs/1/1"; r.TimeStart = 1_020; r.TimeEnd = 1_060; r.PaginationForward = true; r.IncludeData = true; });
        yield return R(r => { r.PubsubTopic = "/waku/2/rs/1/1"; r.PaginationLimit = 100; });
        yield return R(r => { r.PaginationForward = true; r.PaginationLimit = 1000; });
        yield return R(r => { r.PubsubTopic = "/waku/2/rs/1/0"; r.ContentTopics.Add("/nothing/1/x/proto"); });
    }

    [Fact]
    public async Task Every_page_of_every_shape_equals_the_local_engine()
    {
        var engine = new StoreQueryEngine(_node.Store.Store);
        foreach (var shape in Shapes())
        {
            var remote = new List<StoreQueryResponse>();
            await foreach (var page in _client.QueryAllAsync(_node.Address, shape, ct: Timeout)) remote.Add(page);
            var local = new List<StoreQueryResponse>();
            var next = shape.Clone();
            while (true)
            {
                var page = engine.Execute(next);
                local.Add(page);
                if (!page.HasPaginationCursor) break;
                next.PaginationCursor = page.PaginationCursor;
            }
            Assert.Equal(local, remote);
        }
    }

    [Fact]
    public async Task Hash_lookups_and_errors_travel_unchanged()
    {
        var lookup = new StoreQueryRequest { RequestId = "hashes", IncludeData = true };
        lookup.MessageHashes.Add(ByteString.CopyFrom(MessageHash.Compute(_messages[3].Pubsub, _messages[3].Message).ToArray()));
        var found = await _client.QueryAsync(_node.Address, lookup, Timeout);
        Assert.Equal("hashes", found.RequestId);
        Assert.Equal(_messages[3].Message, Assert.Single(found.Messages).Message);

        var bad = new StoreQueryRequest { RequestId = "bad", PaginationCursor = ByteString.CopyFrom(new byte[31]) };
        var error = await _client.QueryAsync(_node.Address, bad, Timeout);
        Assert.Equal(300u, error.StatusCode);
        Assert.Equal("bad", error.RequestId);
    }

    [Fact]
    public async Task Garbage_and_oversized_requests_get_400_and_the_node_keeps_serving()
    {
        await using (var stream = await _node.Client.NewStreamAsync(_node.Address, StoreQueryServer.ProtocolId, Timeout))
        {
            await LengthPrefixed.WriteAsync(stream, new byte[] { 0xff, 0xff, 0xff, 0xff }, Timeout);
            await stream.CloseWriteAsync(Timeout);
            var response = StoreQueryResponse.Parser.ParseFrom(await LengthPrefixed.ReadAsync(stream, 1 << 20, Timeout));
            Assert.Equal(400u, response.StatusCode);
            Assert.Equal(StoreQueryServer.NotParsedRequestId, response.RequestId);
            Assert.StartsWith("decoding rpc failed", response.StatusDesc);
        }
        await using (var stream = await _node.Client.NewStreamAsync(_node.Address, StoreQueryServer.ProtocolId, Timeout))
        {
            await stream.WriteAsync(new byte[] { 0x80, 0x80, 0x40 }, Timeout); // claims 1 MiB
            var response = StoreQueryResponse.Parser.ParseFrom(await LengthPrefixed.ReadAsync(stream, 1 << 20, Timeout));
            Assert.Equal(400u, response.StatusCode);
            Assert.Contains("exceeds the limit", response.StatusDesc);
        }
        var ok = await _client.QueryAsync(_node.Address, new StoreQueryRequest { RequestId = "after" }, Timeout);
        Assert.Equal(200u, ok.StatusCode);
    }
}

public sealed class RateLimitOverLibp2pTests
{
    [Fact]
    public async Task Past_its_rate_a_peer_gets_429_at_once()
    {
        await using var node = await WakuNodeFixture.StartAsync(queriesPerSecond: 2);
        var client = new StoreQueryClient(node.Client);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var codes = new List<uint>();
        for (int i = 0; i < 6; i++) codes.Add((await client.QueryAsync(node.Address, new StoreQueryRequest { RequestId = $"q{i}" }, timeout.Token)).StatusCode);
        Assert.Contains(429u, codes);
        Assert.Equal(200u, codes[0]);
        var limited = await client.QueryAsync(node.Address, new StoreQueryRequest { RequestId = "x" }, timeout.Token);
        if (limited.StatusCode == 429) Assert.Equal("TOO_MANY_REQUESTS", limited.StatusDesc);
    }
}
