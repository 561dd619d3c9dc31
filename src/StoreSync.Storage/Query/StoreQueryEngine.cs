using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Storage.Query;

namespace StoreSync.Storage;

/// <summary>Answers Store v3 queries from the store with nwaku's semantics (spec/store.md).</summary>
/// <remarks>
/// Each page reads from one snapshot. Content topics are merged in (timestamp, hash) order by a k-way merge over one index
/// cursor per topic; no cursor advances past the limit + 1 rows the page needs, and message values are read only for rows returned.
/// </remarks>
public sealed class StoreQueryEngine(MessageStore store, StoreQueryOptions? options = null)
{
    readonly StoreQueryOptions _options = options ?? new StoreQueryOptions();

    public StoreQueryOptions Options => _options;

    public StoreQueryResponse Execute(StoreQueryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new StoreQueryResponse { RequestId = request.RequestId };

        if (request.ContentTopics.Count > _options.MaxContentTopics) return ArchiveError(response, "INVALID_QUERY: too many content topics");
        if (request.MessageHashes.Count > _options.MaxHashes) return ArchiveError(response, $"INVALID_QUERY: too many message hashes (at most {_options.MaxHashes})");
        if (request.HasPaginationCursor && request.PaginationCursor.Length != MessageHash.Length) return ArchiveError(response, "INVALID_QUERY: invalid cursor hash length");
        foreach (var h in request.MessageHashes)
            if (h.Length != MessageHash.Length) return ArchiveError(response, "INVALID_QUERY: invalid message hash length");

        int limit = request.HasPaginationLimit && request.PaginationLimit > 0
            ? (int)Math.Min(request.PaginationLimit, (ulong)_options.MaxPageSize)
            : _options.DefaultPageSize;
        long from = request.HasTimeStart ? request.TimeStart : long.MinValue;
        long to = request.HasTimeEnd ? request.TimeEnd : long.MaxValue;
        bool forward = request.PaginationForward;

        using var view = store.OpenView();
        (long, MessageHash)? cursor = null;
        if (request.HasPaginationCursor)
        {
            var cursorHash = MessageHash.Read(request.PaginationCursor.Span);
            if (cursorHash.IsZero) return ArchiveError(response, "INVALID_QUERY: all zeroes cursor hash");
            if (!view.TryLocate(cursorHash, out var at)) return ArchiveError(response, "DRIVER_ERROR: cursor not found");
            cursor = (at.Timestamp, cursorHash);
        }

        var rows = new List<PageRow>(limit + 1);
        if (request.MessageHashes.Count > 0) CollectByHash(view, request, from, to, forward, cursor, limit, rows);
        else CollectByFilter(view, request, from, to, forward, cursor, limit, rows);

        bool more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        if (more) response.PaginationCursor = ByteString.CopyFrom(rows[^1].Location.Hash.ToArray());
        if (!forward) rows.Reverse();
        foreach (var row in rows)
        {
            var entry = new WakuMessageKeyValue { MessageHash = ByteString.CopyFrom(row.Location.Hash.ToArray()) };
            if (request.IncludeData)
            {
                var bytes = row.Value ?? view.GetMessageBytes(row.Location) ?? throw new StoreCorruptionException($"index points at a missing message {row.Location.Hash}");
                entry.Message = MessageStore.ParseStored(bytes, row.Location.Hash);
                entry.PubsubTopic = view.Topics.PubsubName(row.Location.PubsubId);
            }
            response.Messages.Add(entry);
        }
        response.StatusCode = 200;
        response.StatusDesc = "OK";
        return response;
    }

    /// <summary>nwaku maps every archive error to 300 with this description.</summary>
    static StoreQueryResponse ArchiveError(StoreQueryResponse response, string cause)
    {
        response.StatusCode = 300;
        response.StatusDesc = "BAD_RESPONSE: archive error: " + cause;
        return response;
    }

    void CollectByFilter(StoreView view, StoreQueryRequest request, long from, long to, bool forward, (long, MessageHash)? cursor, int limit, List<PageRow> rows)
    {
        var sources = new List<IndexCursor>();
        try
        {
            foreach (uint p in PubsubScope(view, request))
            {
                if (request.ContentTopics.Count == 0)
                {
                    sources.Add(IndexCursor.ForPubsub(view, p, forward));
                    continue;
                }
                foreach (var topic in request.ContentTopics.Distinct(StringComparer.Ordinal))
                    if (view.Topics.TryGetContentId(topic, out uint c) && view.Counters.Get(p, c).Messages > 0)
                        sources.Add(IndexCursor.ForContent(view, p, c, forward));
            }
            foreach (var source in sources) source.Start(from, to, cursor);
            Merge(sources, forward, limit, rows);
        }
        finally
        {
            foreach (var source in sources) source.Dispose();
        }
    }

    static IEnumerable<uint> PubsubScope(StoreView view, StoreQueryRequest request)
    {
        if (!request.HasPubsubTopic) return view.Topics.PubsubIds.Order();
        return view.Topics.TryGetPubsubId(request.PubsubTopic, out uint p) ? [p] : [];
    }

    /// <summary>k-way merge of the sources in walking order, taking limit + 1 rows (the extra one only says whether more exist).</summary>
    static void Merge(List<IndexCursor> sources, bool forward, int limit, List<PageRow> rows)
    {
        var heap = new PriorityQueue<IndexCursor, MessageLocation>(sources.Count, forward ? AscendingOrder : DescendingOrder);
        foreach (var s in sources)
            if (s.Valid) heap.Enqueue(s, s.Current);
        while (rows.Count <= limit && heap.TryDequeue(out var source, out var location))
        {
            // Values are copied only for rows the page returns, never for the look-ahead row.
            byte[]? value = source.HoldsMessage && rows.Count < limit ? source.CurrentValue.ToArray() : null;
            rows.Add(new PageRow(location, value));
            if (rows.Count > limit) break;
            source.Advance();
            if (source.Valid) heap.Enqueue(source, source.Current);
        }
    }

    static readonly Comparer<MessageLocation> AscendingOrder = Comparer<MessageLocation>.Create((a, b) => a.CompareTime(b));
    static readonly Comparer<MessageLocation> DescendingOrder = Comparer<MessageLocation>.Create((a, b) => b.CompareTime(a));

    static void CollectByHash(StoreView view, StoreQueryRequest request, long from, long to, bool forward, (long Timestamp, MessageHash Hash)? cursor, int limit, List<PageRow> rows)
    {
        uint? pubsub = null;
        if (request.HasPubsubTopic)
        {
            if (!view.Topics.TryGetPubsubId(request.PubsubTopic, out uint p)) return;
            pubsub = p;
        }
        HashSet<uint>? contents = null;
        if (request.ContentTopics.Count > 0)
        {
            contents = [];
            foreach (var topic in request.ContentTopics)
                if (view.Topics.TryGetContentId(topic, out uint c)) contents.Add(c);
        }
        var found = new List<MessageLocation>();
        foreach (var bytes in request.MessageHashes)
        {
            var hash = MessageHash.Read(bytes.Span);
            if (!view.TryLocate(hash, out var l)) continue;
            if (pubsub is { } ps && l.PubsubId != ps) continue;
            if (contents is not null && !contents.Contains(l.ContentId)) continue;
            if (l.Timestamp < from || l.Timestamp > to) continue;
            if (cursor is { } c)
            {
                int order = l.Timestamp != c.Timestamp ? l.Timestamp.CompareTo(c.Timestamp) : l.Hash.CompareTo(c.Hash);
                if (forward ? order <= 0 : order >= 0) continue;
            }
            if (!found.Contains(l)) found.Add(l);
        }
        found.Sort(forward ? AscendingOrder : DescendingOrder);
        foreach (var l in found.Take(limit + 1)) rows.Add(new PageRow(l, null));
    }

    readonly record struct PageRow(MessageLocation Location, byte[]? Value);
}
