using System.Collections.Concurrent;
using System.Net.Sockets;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Storage;
using StoreSync.Testing.Node;
using StoreSync.Waku;
using StoreSync.Waku.LightPush;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;
using static StoreSync.Node.Tests.NodeTestPeers;

namespace StoreSync.Node.Tests;

/// <summary>A real <c>storesync node</c> process over libp2p (TCP, Noise, Yamux): metrics, bad input, rate limits, graceful stop.</summary>
public sealed class NodeNetworkTests
{
    [Fact]
    public async Task Metrics_scraped_from_a_real_node_count_its_libp2p_traffic()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Metrics = true, Args = ["--shard", "0", "--shard", "1"] });
        await using var client = Client();
        var push = new LightPushClient(client);
        for (int i = 0; i < 3; i++) Assert.Equal(200u, (await push.PushAsync(node.Multiaddr, Shard0, Message($"m{i}"), ct)).StatusCode);
        var invalid = Message("bad");
        invalid.ContentTopic = "not a content topic";
        Assert.Equal(WakuStatus.InvalidMessage, (await push.PushAsync(node.Multiaddr, Shard0, invalid, ct)).StatusCode);

        var store = new StoreQueryClient(client);
        var query = new StoreQueryRequest { RequestId = "q", PubsubTopic = Shard0, IncludeData = true, PaginationForward = true };
        query.ContentTopics.Add("/app/1/chat/proto");
        Assert.Equal(3, (await store.QueryAsync(node.Multiaddr, query, ct)).Messages.Count);
        var unserved = new StoreQueryRequest { RequestId = "u", PubsubTopic = "/some/random/topic", PaginationForward = true };
        Assert.Equal(200u, (await store.QueryAsync(node.Multiaddr, unserved, ct)).StatusCode);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var text = await http.GetStringAsync(node.Metrics, ct);
        Assert.Equal(3, Require(text, "storesync_messages_stored_total", ("pubsub_topic", Shard0)));
        Assert.Equal(1, Require(text, "storesync_messages_rejected_total", ("reason", "Invalid")));
        Assert.Equal(3, Require(text, "storesync_messages_served_total", ("pubsub_topic", Shard0)));
        Assert.Equal(0, Require(text, "storesync_messages_served_total", ("pubsub_topic", "other"))); // an unserved topic is not a label
        Assert.Null(Sample(text, "storesync_messages_served_total", ("pubsub_topic", "/some/random/topic")));
        Assert.Equal(2, Require(text, "storesync_store_queries_total", ("status_code", "200")));
        Assert.Equal(3, Require(text, "storesync_lightpush_requests_total", ("version", "3"), ("status_code", "200")));
        Assert.Equal(1, Require(text, "storesync_lightpush_requests_total", ("version", "3"), ("status_code", "420")));
        foreach (var protocol in new[] { "store", "lightpush" })
        {
            Assert.True(Require(text, "storesync_bytes_in_bytes_total", ("protocol", protocol)) > 0);
            Assert.True(Require(text, "storesync_bytes_out_bytes_total", ("protocol", protocol)) > 0);
        }
        Assert.Equal(2, Require(text, "storesync_store_query_duration_seconds_count"));
        Assert.Equal(2, Require(text, "storesync_store_query_duration_seconds_bucket", ("le", "+Inf")));
        Assert.NotNull(Sample(text, "storesync_store_query_duration_seconds_bucket", ("le", "0.001")));
        Assert.Equal(3, Require(text, "storesync_store_messages"));
        Assert.True(Require(text, "storesync_store_bytes") > 0);
        Assert.Equal(3, Require(text, "storesync_store_topic_messages", ("pubsub_topic", Shard0)));
        Assert.Equal(0, Require(text, "storesync_store_topic_messages", ("pubsub_topic", "/waku/2/rs/1/1")));
        Assert.True(Require(text, "storesync_connected_peers") >= 1);
    }

    [Fact]
    public async Task Bad_input_gets_400_or_a_closed_stream_with_a_logged_reason_and_the_node_keeps_serving()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Rest = false, Args = ["--shard", "0"] });
        await using var bad = Client();
        var at = node.Multiaddr;

        var garbage = StoreQueryResponse.Parser.ParseFrom(await RawAsync(bad, at, StoreQueryServer.ProtocolId, Framed([0xff, 0xff, 0xff, 0xff]), true, ct));
        Assert.Equal((400u, StoreQueryServer.NotParsedRequestId), (garbage.StatusCode, garbage.RequestId));
        Assert.StartsWith("decoding rpc failed", garbage.StatusDesc);
        // Announces 1 MiB: refused before anything is allocated or read, without waiting for the body.
        var oversized = StoreQueryResponse.Parser.ParseFrom(await RawAsync(bad, at, StoreQueryServer.ProtocolId, [0x80, 0x80, 0x40], false, ct));
        Assert.Equal(400u, oversized.StatusCode);
        Assert.Contains("exceeds the limit", oversized.StatusDesc);
        var truncated = StoreQueryResponse.Parser.ParseFrom(await RawAsync(bad, at, StoreQueryServer.ProtocolId, [100, 1, 2, 3], true, ct));
        Assert.Equal(400u, truncated.StatusCode);
        Assert.Contains("stream ended", truncated.StatusDesc);

        var pushGarbage = LightpushResponse.Parser.ParseFrom(await RawAsync(bad, at, LightPushServer.ProtocolIdV3, Framed([0x0a, 0xff]), true, ct));
        Assert.Equal(WakuStatus.BadRequest, pushGarbage.StatusCode);
        Assert.StartsWith("decoding rpc failed", pushGarbage.StatusDesc);
        var pushOversized = LightpushResponse.Parser.ParseFrom(await RawAsync(bad, at, LightPushServer.ProtocolIdV3, [0x80, 0x80, 0x80, 0x02], false, ct)); // 4 MiB
        Assert.Equal(WakuStatus.BadRequest, pushOversized.StatusCode);
        Assert.Contains("exceeds the limit", pushOversized.StatusDesc);
        var legacy = PushRpc.Parser.ParseFrom(await RawAsync(bad, at, LightPushServer.ProtocolIdLegacy, Framed([0xff]), true, ct));
        Assert.False(legacy.Response.IsSuccess);
        Assert.StartsWith("decoding rpc failed", legacy.Response.Info);

        // Not libp2p at all: the connection is closed during its handshake.
        var (ip, port, _) = at.ToTcpDialTarget();
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(ip, port, ct);
            var s = tcp.GetStream();
            await s.WriteAsync(System.Text.Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + new string('x', 2000)), ct);
            var sink = new byte[4096];
            try { while (await s.ReadAsync(sink, ct) > 0) { } } catch (IOException) { } // ends when the node closes it
        }

        // Another peer (and the same one) are still served.
        await using var good = Client();
        foreach (var peer in new[] { good, bad })
        {
            var ok = await new StoreQueryClient(peer).QueryAsync(at, new StoreQueryRequest { RequestId = "after" }, ct);
            Assert.Equal((200u, "after"), (ok.StatusCode, ok.RequestId));
            Assert.Equal(200u, (await new LightPushClient(peer).PushAsync(at, Shard0, Message("fine"), ct)).StatusCode);
        }
        Assert.False(node.HasExited);
        await node.WaitForOutputAsync("Unreadable store query", ct);
        await node.WaitForOutputAsync("Unreadable light push", ct);
        await node.WaitForOutputAsync("not decodable", ct);
        await node.WaitForOutputAsync("during its handshake", ct);
    }

    [Fact]
    public async Task Past_its_rate_a_peer_gets_429_at_once_while_another_peer_is_served()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Rest = false, Args = ["--shard", "0", "--rate-limit", "store:5/1s"] });
        await using var greedy = Client();
        await using var polite = Client();
        var at = node.Multiaddr;
        var greedyStore = new StoreQueryClient(greedy);
        await greedy.DialAsync(at, ct);

        var codes = new ConcurrentBag<(uint Code, string Id, string Desc)>();
        var flood = Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, c) =>
        {
            var r = await greedyStore.QueryAsync(at, new StoreQueryRequest { RequestId = $"g{i}" }, c);
            codes.Add((r.StatusCode, r.RequestId, r.StatusDesc));
        });
        // While the flood runs, a peer within its rate gets every answer.
        var politeStore = new StoreQueryClient(polite);
        for (int i = 0; i < 4; i++)
        {
            var r = await politeStore.QueryAsync(at, new StoreQueryRequest { RequestId = $"p{i}" }, ct);
            Assert.Equal((200u, $"p{i}"), (r.StatusCode, r.RequestId));
            await Task.Delay(250, ct);
        }
        await flood;

        Assert.Equal(200, codes.Count);
        Assert.Contains(codes, c => c.Code == 200);
        var limited = codes.Where(c => c.Code == 429).ToList();
        Assert.NotEmpty(limited);
        Assert.All(limited, c => Assert.Equal("TOO_MANY_REQUESTS", c.Desc));
        Assert.All(codes, c => Assert.True(c.Code is 200 or 429, $"unexpected {c.Code} {c.Desc}"));
        Assert.Equal(200, codes.Select(c => c.Id).Distinct().Count()); // each answer carries its own request id
        // Light push has its own bucket: the greedy peer's queries did not use up its pushes.
        Assert.Equal(200u, (await new LightPushClient(greedy).PushAsync(at, Shard0, Message("still allowed"), ct)).StatusCode);
    }

    [Fact]
    public async Task Sigterm_answers_the_light_pushes_in_flight_and_loses_none()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = timeout.Token;
        var data = Directory.CreateTempSubdirectory("storesync-drain-").FullName;
        try
        {
            var acked = new ConcurrentBag<MessageHash>();
            var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = data, Rest = false, Args = ["--shard", "0", "--rate-limit", "lightpush:100000/1s"] });
            await using (node)
            {
                var at = node.Multiaddr;
                var pushers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
                {
                    await using var client = Client();
                    var push = new LightPushClient(client);
                    for (int i = 0; i < 2000; i++) // bounded; ends when the node stops taking streams
                    {
                        var message = Message($"pusher {p} message {i}");
                        try
                        {
                            var response = await push.PushAsync(at, Shard0, message, ct);
                            if (response.StatusCode == 200) acked.Add(MessageHash.Compute(Shard0, message));
                            else throw new InvalidOperationException($"push refused: {response.StatusCode} {response.StatusDesc}");
                        }
                        catch (Exception e) when (e is IOException or SocketException or TimeoutException or StoreSync.Libp2p.Multistream.MultistreamException
                                                       or ObjectDisposedException or EndOfStreamException)
                        {
                            return i;
                        }
                    }
                    return 2000;
                }, ct)).ToList();

                // One push is half-sent when the signal arrives: the node must wait for the rest and answer it.
                await using var slowClient = Client();
                var inFlight = Message("sent across the SIGTERM");
                var request = Framed(new LightpushRequest { RequestId = "in-flight", PubsubTopic = Shard0, Message = inFlight }.ToByteArray());
                await using var stream = await slowClient.NewStreamAsync(at, LightPushServer.ProtocolIdV3, ct);
                await stream.WriteAsync(request.AsMemory(0, request.Length / 2), ct);
                // An idle stream (js-waku opens one per protocol in advance) is not a request in flight: the drain does not wait for it.
                await using var idle = await slowClient.NewStreamAsync(at, StoreQueryServer.ProtocolId, ct);

                while (acked.Count < 50 && pushers.Any(t => !t.IsCompleted)) await Task.Delay(10, ct);
                node.SendSigterm();
                await node.WaitForOutputAsync("Draining", ct);
                await stream.WriteAsync(request.AsMemory(request.Length / 2), ct);
                await stream.CloseWriteAsync(ct);
                var answer = LightpushResponse.Parser.ParseFrom(await StoreSync.Libp2p.LengthPrefixed.ReadAsync(stream, 1 << 16, ct));
                Assert.Equal((200u, "in-flight"), (answer.StatusCode, answer.RequestId));
                acked.Add(MessageHash.Compute(Shard0, inFlight));

                var reset = await Assert.ThrowsAnyAsync<IOException>(async () => await idle.ReadExactlyAsync(new byte[1], ct));
                Assert.IsNotType<EndOfStreamException>(reset); // reset by the drain, not half-closed
                await Task.WhenAll(pushers).WaitAsync(ct);
                Assert.Equal(0, await node.WaitForExitAsync());
                Assert.Contains("Drained: every request in flight was answered", node.Output);
            }
            using var store = MessageStore.Open(data);
            Assert.True(acked.Count > 50);
            Assert.All(acked, h => Assert.True(store.Contains(h), $"acknowledged push {h} is not in the store"));
            Assert.Empty(StoreIntegrity.Check(store));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
