using Google.Protobuf;
using Microsoft.Extensions.Logging;
using RocksDbSharp;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Storage.Query;

namespace StoreSync.Storage;

/// <summary>Answers Store v3 queries from the store with nwaku's semantics (spec/store.md).</summary>
/// <remarks>
/// Each page reads from one snapshot. Content topics are merged in (timestamp, hash) order by a k-way merge over one index
/// cursor per topic; no cursor reads more than limit + 1 keys, and message values are decoded only for rows returned.
/// </remarks>
public sealed class StoreQueryEngine
{
    /// <summary>nwaku's StatusCode values used here (waku_store/common.nim); the network layer adds 400 and 429.</summary>
    const uint Success = 200, BadResponse = 300, ServiceUnavailable = 503;

    readonly MessageStore _store;
    readonly StoreQueryOptions _options;

    public StoreQueryEngine(MessageStore store, StoreQueryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _options = options ?? new StoreQueryOptions();
    }

    public StoreQueryOptions Options => _options;

    public StoreQueryResponse Execute(StoreQueryRequest request) => Execute(request, null);

    /// <summary>
    /// Answers <paramref name="request"/> as if rows that <paramref name="visibility"/> hides were not stored. A walk skips at
    /// most <see cref="StoreQueryOptions.MaxHiddenRowsPerPage"/> hidden rows per page; past that the page ends early with a
    /// cursor at the last row examined, so a page costs a bounded number of reads however much is hidden.
    /// </summary>
    public StoreQueryResponse Execute(StoreQueryRequest request, IStoreVisibility? visibility)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new StoreQueryResponse { RequestId = request.RequestId };
        try
        {
            return Answer(request, response, visibility);
        }
        catch (StoreCorruptionException e)
        {
            // A damaged entry fails this query only; nothing is written, nothing stored is lost.
            _store.Logger.LogError("Store query {RequestId} hit damaged data: {Problem}", request.RequestId, e.Message);
            return Failure(response, BadResponse, "BAD_RESPONSE: archive error: DRIVER_ERROR: " + e.Message);
        }
        catch (RocksDbException e)
        {
            _store.Logger.LogError(e, "Store query {RequestId} failed in RocksDB", request.RequestId);
            return Failure(response, BadResponse, "BAD_RESPONSE: archive error: DRIVER_ERROR: " + e.Message);
        }
        catch (ObjectDisposedException)
        {
            return Failure(response, ServiceUnavailable, "SERVICE_UNAVAILABLE");
        }
    }

    StoreQueryResponse Answer(StoreQueryRequest request, StoreQueryResponse response, IStoreVisibility? visibility)
    {
        // Checks in nwaku's order (archive.nim findMessages), with the same descriptions.
        if (request.HasPaginationCursor)
        {
            if (request.PaginationCursor.Length != MessageHash.Length)
                return InvalidQuery(response, $"invalid cursor hash length: {request.PaginationCursor.Length}");
            if (MessageHash.Read(request.PaginationCursor.Span).IsZero) return InvalidQuery(response, "all zeroes cursor hash");
        }
        if (request.ContentTopics.Count > _options.MaxContentTopics) return InvalidQuery(response, "too many content topics");
        if (request.MessageHashes.Count > _options.MaxHashes) return InvalidQuery(response, $"too many message hashes (at most {_options.MaxHashes})");
        foreach (var h in request.MessageHashes)
            if (h.Length != MessageHash.Length) return InvalidQuery(response, $"invalid message hash length: {h.Length}");

        int limit = request.HasPaginationLimit && request.PaginationLimit > 0
            ? (int)Math.Min(request.PaginationLimit, (ulong)_options.MaxPageSize)
            : _options.DefaultPageSize;
        long from = request.HasTimeStart ? request.TimeStart : long.MinValue;
        long to = request.HasTimeEnd ? request.TimeEnd : long.MaxValue;
        bool forward = request.PaginationForward;

        using var view = _store.OpenView();
        (long, MessageHash)? cursor = null;
        if (request.HasPaginationCursor)
        {
            var cursorHash = MessageHash.Read(request.PaginationCursor.Span);
            if (!view.TryLocate(cursorHash, out var at))
                return Failure(response, BadResponse, "BAD_RESPONSE: archive error: DRIVER_ERROR: cursor not found");
            cursor = (at.Timestamp, cursorHash);
        }

        var rows = new List<PageRow>(limit + 1);
        var query = new PageQuery(from, to, forward, cursor, limit, request.IncludeData,
            visibility is null ? null : new VisibilityCache(view, visibility), _options.MaxHiddenRowsPerPage);
        MessageLocation? resume = null;
        if (request.MessageHashes.Count > 0) CollectByHash(view, request, query, rows);
        else resume = CollectByFilter(view, request, query, rows);

        bool more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        Span<byte> hashBytes = stackalloc byte[MessageHash.Length];
        if (more)
        {
            rows[^1].Location.Hash.WriteTo(hashBytes);
            response.PaginationCursor = ByteString.CopyFrom(hashBytes);
        }
        else if (resume is { } hiddenRow)
        {
            // The hidden-row budget ran out: continue after the last row examined (it exists, so the cursor resolves).
            hiddenRow.Hash.WriteTo(hashBytes);
            response.PaginationCursor = ByteString.CopyFrom(hashBytes);
        }
        if (!forward) rows.Reverse();
        foreach (var row in rows)
        {
            row.Location.Hash.WriteTo(hashBytes);
            var entry = new WakuMessageKeyValue { MessageHash = ByteString.CopyFrom(hashBytes) };
            if (request.IncludeData)
            {
                entry.Message = row.Message ?? ReadMessage(view, row.Location);
                entry.PubsubTopic = view.Topics.PubsubName(row.Location.PubsubId);
            }
            response.Messages.Add(entry);
        }
        response.StatusCode = Success;
        response.StatusDesc = "OK";
        return response;
    }

    static WakuMessage ReadMessage(StoreView view, in MessageLocation location)
    {
        var bytes = view.GetMessageBytes(location) ?? throw new StoreCorruptionException($"an index points at a missing message {location.Hash}");
        return MessageStore.ParseStored(bytes, location.Hash);
    }

    /// <summary>nwaku maps every archive error to 300 (BAD_RESPONSE) with this description.</summary>
    static StoreQueryResponse InvalidQuery(StoreQueryResponse response, string cause) =>
        Failure(response, BadResponse, "BAD_RESPONSE: archive error: INVALID_QUERY: " + cause);

    static StoreQueryResponse Failure(StoreQueryResponse response, uint status, string description)
    {
        response.Messages.Clear();
        response.ClearPaginationCursor();
        response.StatusCode = status;
        response.StatusDesc = description;
        return response;
    }

    /// <summary>Collects the page; returns where to resume when the hidden-row budget ran out before the page filled.</summary>
    MessageLocation? CollectByFilter(StoreView view, StoreQueryRequest request, in PageQuery query, List<PageRow> rows)
    {
        uint[] pubsubs;
        if (!request.HasPubsubTopic) pubsubs = view.Topics.PubsubIdsInOrder();
        else if (view.Topics.TryGetPubsubId(request.PubsubTopic, out uint only)) pubsubs = [only];
        else return null;

        // Content topic ids, each once; unknown topics match nothing.
        Span<uint> contents = stackalloc uint[request.ContentTopics.Count];
        int contentCount = 0;
        foreach (var topic in request.ContentTopics)
            if (view.Topics.TryGetContentId(topic, out uint c) && !contents[..contentCount].Contains(c)) contents[contentCount++] = c;
        if (request.ContentTopics.Count > 0 && contentCount == 0) return null;

        var sources = new List<IndexCursor>();
        try
        {
            foreach (uint p in pubsubs)
            {
                if (request.ContentTopics.Count == 0)
                {
                    sources.Add(IndexCursor.ForPubsub(view, p, query.Forward));
                    continue;
                }
                // A pair that never held a message needs no iterator (IsKnown is set before the first write of the pair);
                // a hidden pair needs none either: its rows would all be skipped.
                foreach (uint c in contents[..contentCount])
                    if (view.Counters.IsKnown(p, c) && query.Visibility?.IsVisible(p, c) != false) sources.Add(IndexCursor.ForContent(view, p, c, query.Forward));
            }
            foreach (var source in sources) source.Start(query.From, query.To, query.Cursor);
            return Merge(sources, query, rows);
        }
        finally
        {
            foreach (var source in sources) source.Dispose();
        }
    }

    /// <summary>k-way merge of the sources in walking order, taking limit + 1 rows (the extra one only says whether more exist).</summary>
    static MessageLocation? Merge(List<IndexCursor> sources, in PageQuery query, List<PageRow> rows)
    {
        var heap = new PriorityQueue<IndexCursor, MessageLocation>(sources.Count, query.Forward ? AscendingOrder : DescendingOrder);
        foreach (var s in sources)
            if (s.Valid) heap.Enqueue(s, s.Current);
        int hidden = 0;
        while (heap.TryDequeue(out var source, out var location))
        {
            if (query.Visibility?.IsVisible(location.PubsubId, location.ContentId) == false)
            {
                if (++hidden > query.MaxHidden) return location;
                source.Advance();
                if (source.Valid) heap.Enqueue(source, source.Current);
                continue;
            }
            // Decoded straight from the iterator, only for rows the page returns — never for the look-ahead row.
            WakuMessage? message = query.IncludeData && source.HoldsMessage && rows.Count < query.Limit
                ? MessageStore.ParseStored(source.CurrentValue, location.Hash)
                : null;
            rows.Add(new PageRow(location, message));
            if (rows.Count > query.Limit) break;
            source.Advance();
            if (source.Valid) heap.Enqueue(source, source.Current);
        }
        return null;
    }

    static readonly Comparer<MessageLocation> AscendingOrder = Comparer<MessageLocation>.Create((a, b) => a.CompareTime(b));
    static readonly Comparer<MessageLocation> DescendingOrder = Comparer<MessageLocation>.Create((a, b) => b.CompareTime(a));

    static void CollectByHash(StoreView view, StoreQueryRequest request, in PageQuery query, List<PageRow> rows)
    {
        uint pubsub = 0;
        if (request.HasPubsubTopic && !view.Topics.TryGetPubsubId(request.PubsubTopic, out pubsub)) return;
        Span<uint> contents = stackalloc uint[request.ContentTopics.Count];
        int contentCount = 0;
        foreach (var topic in request.ContentTopics)
            if (view.Topics.TryGetContentId(topic, out uint c)) contents[contentCount++] = c;
        if (request.ContentTopics.Count > 0 && contentCount == 0) return;

        var seen = new HashSet<MessageHash>(request.MessageHashes.Count);
        var found = new List<MessageLocation>(request.MessageHashes.Count);
        foreach (var bytes in request.MessageHashes)
        {
            var hash = MessageHash.Read(bytes.Span);
            if (!seen.Add(hash) || !view.TryLocate(hash, out var l)) continue;
            if (request.HasPubsubTopic && l.PubsubId != pubsub) continue;
            if (request.ContentTopics.Count > 0 && !contents[..contentCount].Contains(l.ContentId)) continue;
            if (l.Timestamp < query.From || l.Timestamp > query.To) continue;
            if (query.Visibility?.IsVisible(l.PubsubId, l.ContentId) == false) continue;
            if (query.Cursor is { } cursor)
            {
                int order = l.CompareTime(new MessageLocation(0, 0, cursor.Timestamp, cursor.Hash));
                if (query.Forward ? order <= 0 : order >= 0) continue;
            }
            found.Add(l);
        }
        found.Sort(query.Forward ? AscendingOrder : DescendingOrder);
        int take = Math.Min(found.Count, query.Limit + 1);
        for (int i = 0; i < take; i++) rows.Add(new PageRow(found[i], null));
    }

    readonly record struct PageQuery(long From, long To, bool Forward, (long Timestamp, MessageHash Hash)? Cursor, int Limit, bool IncludeData,
        VisibilityCache? Visibility, int MaxHidden);

    /// <summary>Visibility by store ids, asked once per (pubsub, content) pair per page.</summary>
    sealed class VisibilityCache(StoreView view, IStoreVisibility visibility)
    {
        readonly Dictionary<(uint, uint), bool> _known = [];

        public bool IsVisible(uint pubsubId, uint contentId)
        {
            if (_known.TryGetValue((pubsubId, contentId), out bool visible)) return visible;
            visible = visibility.IsVisible(view.Topics.PubsubName(pubsubId), view.Topics.ContentName(contentId));
            _known[(pubsubId, contentId)] = visible;
            return visible;
        }
    }

    readonly record struct PageRow(MessageLocation Location, WakuMessage? Message);
}
