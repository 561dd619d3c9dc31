using System.CommandLine;
using System.Text.Json;
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Libp2p.Noise;
using StoreSync.Node.Json;
using StoreSync.Storage;
using StoreSync.Storage.Query;
using StoreSync.Waku;
using StoreSync.Waku.Proto;
using StoreSync.Waku.Store;

namespace StoreSync.Node.Cli;

/// <summary><c>storesync query</c>: one Store v3 page (a JSON response) or every page (JSON lines, one message each).</summary>
internal static class QueryCommand
{
    public static Command Create()
    {
        var pubsub = new Option<string?>("--pubsub-topic", "-p") { Description = "Pubsub topic, e.g. /waku/2/rs/1/0" };
        var content = new Option<string[]>("--content-topic", "-c") { Description = "Content topic (repeatable; needs --pubsub-topic)", AllowMultipleArgumentsPerToken = false };
        var start = new Option<string?>("--start") { Description = "Earliest timestamp, inclusive: nanoseconds or ISO-8601" };
        var end = new Option<string?>("--end") { Description = "Latest timestamp, inclusive (as nwaku): nanoseconds or ISO-8601" };
        var hashes = new Option<string[]>("--hash") { Description = "Look up this message hash (repeatable; hex or base64)" };
        var cursor = new Option<string?>("--cursor") { Description = "Start after this message hash (exclusive)" };
        var backward = new Option<bool>("--backward") { Description = "Page from the newest message backwards (the protocol's default; the CLI pages forward unless this is given)" };
        var limit = new Option<ulong>("--limit", "-n") { Description = "Messages per page: 1..100 (0 = 20)", DefaultValueFactory = _ => 20 };
        var all = new Option<bool>("--all") { Description = "Follow cursors through every page; prints one JSON message per line" };
        var hashesOnly = new Option<bool>("--hashes-only") { Description = "Ask for hashes only (include_data = false)" };
        var peer = new Option<string?>("--peer") { Description = "Query this remote store node (multiaddr ending in /p2p/<peer id>) over libp2p instead of the local store" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for each remote page", DefaultValueFactory = _ => 30 };
        var command = new Command("query", "Query the local store, or a remote node with --peer, with Store v3 semantics and print JSON (nwaku REST shape)")
        {
            pubsub, content, start, end, hashes, cursor, backward, limit, all, hashesOnly, peer, timeout,
        };
        command.SetAction(async (parse, ct) =>
        {
            var request = new StoreQueryRequest
            {
                RequestId = Guid.NewGuid().ToString(),
                IncludeData = !parse.GetValue(hashesOnly),
                PaginationForward = !parse.GetValue(backward),
                PaginationLimit = parse.GetValue(limit),
            };
            if (parse.GetValue(pubsub) is { } p) request.PubsubTopic = p;
            request.ContentTopics.AddRange(parse.GetValue(content) ?? []);
            if (parse.GetValue(start) is { } s) request.TimeStart = CliOptions.ParseTime(s, "--start");
            if (parse.GetValue(end) is { } e) request.TimeEnd = CliOptions.ParseTime(e, "--end");
            foreach (var h in parse.GetValue(hashes) ?? [])
                request.MessageHashes.Add(ByteString.CopyFrom(MessageHash.TryParse(h, out var hash) ? hash.ToArray() : throw new CliUsageException($"--hash: '{h}' is not a 32-byte hash")));
            if (parse.GetValue(cursor) is { } c)
                request.PaginationCursor = ByteString.CopyFrom(MessageHash.TryParse(c, out var ch) ? ch.ToArray() : throw new CliUsageException($"--cursor: '{c}' is not a 32-byte hash"));
            if (request.ContentTopics.Count > 0 && !request.HasPubsubTopic) throw new CliUsageException("--content-topic needs --pubsub-topic");

            if (parse.GetValue(peer) is { } peerText)
            {
                if (!Multiaddr.TryParse(peerText, out var address) || address!.PeerId is null)
                    throw new CliUsageException($"--peer: '{peerText}' is not a multiaddr ending in /p2p/<peer id>");
                await using var remote = new RemoteStore(address, TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout))));
                return parse.GetValue(all) ? await PrintAllAsync(remote.QueryAsync, request, ct) : PrintPage(await remote.QueryAsync(request, ct));
            }
            using var store = MessageStore.Open(parse.GetValue(CliOptions.DataDir)!.FullName);
            var engine = new StoreQueryEngine(store);
            return parse.GetValue(all) ? await PrintAllAsync((r, _) => Task.FromResult(engine.Execute(r)), request, ct) : PrintPage(engine.Execute(request));
        });
        return command;
    }

    /// <summary>A throw-away libp2p identity that dials one store node.</summary>
    sealed class RemoteStore(Multiaddr address, TimeSpan pageTimeout) : IAsyncDisposable
    {
        readonly Libp2pHost _host = new(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new NoiseSecurity() });

        public async Task<StoreQueryResponse> QueryAsync(StoreQueryRequest request, CancellationToken ct)
        {
            using var page = CancellationTokenSource.CreateLinkedTokenSource(ct);
            page.CancelAfter(pageTimeout);
            try
            {
                return await new StoreQueryClient(_host).QueryAsync(address, request, page.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new IOException($"no answer from {address} within {pageTimeout.TotalSeconds:0} s");
            }
        }

        public ValueTask DisposeAsync() => _host.DisposeAsync();
    }

    static int PrintPage(StoreQueryResponse response)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var json = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
            MessageJson.WriteResponse(json, response);
        stdout.WriteByte((byte)'\n');
        return response.StatusCode == WakuStatus.Success ? 0 : 1;
    }

    static async Task<int> PrintAllAsync(Func<StoreQueryRequest, CancellationToken, Task<StoreQueryResponse>> query, StoreQueryRequest request, CancellationToken ct)
    {
        using var stdout = new BufferedStream(Console.OpenStandardOutput(), 1 << 16);
        using var json = new Utf8JsonWriter(stdout);
        long messages = 0, pages = 0;
        // Bounded: every page advances the cursor strictly; a store with N matching rows ends in N/limit + 1 pages.
        while (!ct.IsCancellationRequested)
        {
            var response = await query(request, ct).ConfigureAwait(false);
            pages++;
            if (response.StatusCode != WakuStatus.Success)
            {
                json.Flush(); stdout.Flush();
                Console.Error.WriteLine($"page {pages}: {response.StatusCode} {response.StatusDesc}");
                return 1;
            }
            foreach (var entry in response.Messages)
            {
                MessageJson.WriteKeyValue(json, entry);
                json.Flush();
                json.Reset();
                stdout.WriteByte((byte)'\n');
                messages++;
            }
            if (!response.HasPaginationCursor) break;
            request.PaginationCursor = response.PaginationCursor;
        }
        stdout.Flush();
        Console.Error.WriteLine($"{messages} messages in {pages} pages");
        return ct.IsCancellationRequested ? 130 : 0;
    }
}
