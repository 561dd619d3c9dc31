using Microsoft.Extensions.Logging;
using RocksDbSharp;
using StoreSync.Core;

namespace StoreSync.Storage.Query;

/// <summary>Answers Store queries from the store with nwaku's semantics (spec/store.md); the wire format is the caller's.</summary>
/// <remarks>
/// Each page reads from one snapshot. Content topics are merged in (timestamp, hash) order by a k-way merge over one index
/// cursor per topic; no cursor reads more than limit + 1 keys, and message values are read only for rows returned.
/// </remarks>
public sealed class StoreQueryEngine
{
    readonly MessageStore _store;
    readonly StoreQueryOptions _options;

    public StoreQueryEngine(MessageStore store, StoreQueryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _options = options ?? new StoreQueryOptions();
    }

    public StoreQueryOptions Options => _options;

    /// <summary>
    /// Answers <paramref name="query"/> as if rows that <paramref name="visibility"/> hides were not stored; dispose the result once
    /// used. A walk skips at most <see cref="StoreQueryOptions.MaxHiddenRowsPerPage"/> hidden rows per page; past that the page ends
    /// early with a cursor at the last row examined, so a page costs a bounded number of reads however much is hidden.
    /// </summary>
    /// <remarks>Rows carry their stored form, not parsed messages: a wire encoder copies it as it is.</remarks>
    public StoreQueryResult Execute(StoreQuery query, IStoreVisibility? visibility = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Answer(query, visibility);
    }

    /// <summary>As <see cref="Execute"/>, with each row's message parsed (for callers that want objects); a stored form that does not
    /// parse fails the query as damaged data.</summary>
    public StoreQueryResult ExecuteWithMessages(StoreQuery query, IStoreVisibility? visibility = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        var result = Answer(query, visibility);
        try
        {
            result.ParseMessages();
        }
        catch (StoreCorruptionException e)
        {
            Damaged(result, query, e);
        }
        return result;
    }

    StoreQueryResult Answer(StoreQuery query, IStoreVisibility? visibility)
    {
        var page = new StoreQueryResult(query.IncludeData, _store.Topics);
        try
        {
            Collect(query, page, visibility);
        }
        catch (StoreCorruptionException e)
        {
            Damaged(page, query, e);
        }
        catch (RocksDbException e)
        {
            _store.Logger.LogError(e, "Store query {RequestId} failed in RocksDB", query.RequestId);
            page.Fail(new StoreQueryError(StoreQueryErrorKind.DriverError, e.Message));
        }
        catch (ObjectDisposedException)
        {
            page.Fail(new StoreQueryError(StoreQueryErrorKind.Unavailable, "the store is closed"));
        }
        return page;
    }

    /// <summary>A damaged entry fails this query only; nothing is written, nothing stored is lost.</summary>
    void Damaged(StoreQueryResult page, StoreQuery query, StoreCorruptionException e)
    {
        _store.Logger.LogError("Store query {RequestId} hit damaged data: {Problem}", query.RequestId, e.Message);
        page.Fail(new StoreQueryError(StoreQueryErrorKind.DriverError, e.Message));
    }

    void Collect(StoreQuery request, StoreQueryResult page, IStoreVisibility? visibility)
    {
        if (InvalidQueryCause(request) is { } cause)
        {
            page.Fail(new StoreQueryError(StoreQueryErrorKind.InvalidQuery, cause));
            return;
        }

        int limit = request.Limit is { } l && l > 0
            ? (int)Math.Min(l, (ulong)_options.MaxPageSize)
            : _options.DefaultPageSize;
        long from = request.TimeStart ?? long.MinValue;
        long to = request.TimeEnd ?? long.MaxValue;
        bool forward = request.Forward;

        using var view = _store.OpenView();
        (long, MessageHash)? cursor = null;
        if (request.Cursor is { } cursorBytes)
        {
            var cursorHash = MessageHash.Read(cursorBytes.Span);
            if (!view.TryLocate(cursorHash, out var at))
            {
                page.Fail(new StoreQueryError(StoreQueryErrorKind.DriverError, "cursor not found"));
                return;
            }
            cursor = (at.Timestamp, cursorHash);
        }

        var query = new PageQuery(from, to, forward, cursor, limit, request.IncludeData,
            visibility is null ? null : new VisibilityCache(view, visibility), _options.MaxHiddenRowsPerPage);
        var rows = new PageRows(view, page, limit);
        if (request.MessageHashes.Count > 0) CollectByHash(view, request, query, rows);
        else CollectByFilter(view, request, query, rows);

        // More rows than the limit: continue after the last one returned. The hidden-row budget ran out: continue after the last
        // row examined (it exists, so the cursor resolves).
        if (rows.More) page.Cursor = rows.Last!.Value.Hash;
        else if (rows.Resume is { } hiddenRow) page.Cursor = hiddenRow.Hash;
        if (!forward) page.Reverse();
    }

    /// <summary>The page's rows as the walk finds them: the first <c>limit</c> go into the page (with their stored form when
    /// data is asked for, read from the walk's iterator when it holds it), one more only says that more exist.</summary>
    sealed class PageRows(StoreView view, StoreQueryResult page, int limit)
    {
        public bool More { get; private set; }
        public MessageLocation? Last { get; private set; }
        public MessageLocation? Resume { get; set; }

        /// <param name="stored">The stored form when the caller's iterator holds it; otherwise it is read by key when needed.</param>
        public void Add(in MessageLocation location, ReadOnlySpan<byte> stored, bool holdsStored)
        {
            if (page.Count == limit)
            {
                More = true;
                return;
            }
            Last = location;
            if (!page.IncludeData)
            {
                page.Add(location, null, default);
                return;
            }
            var pubsub = view.Topics.PubsubName(location.PubsubId);
            if (holdsStored)
            {
                page.Add(location, pubsub, stored);
                return;
            }
            var bytes = view.GetMessageBytes(location) ?? throw new StoreCorruptionException($"an index points at a missing message {location.Hash}");
            page.Add(location, pubsub, bytes);
        }
    }

    /// <summary>nwaku's checks in its order (archive.nim findMessages), with its descriptions; null when the request passes them.</summary>
    string? InvalidQueryCause(StoreQuery request)
    {
        if (request.Cursor is { } cursor)
        {
            if (cursor.Length != MessageHash.Length) return $"invalid cursor hash length: {cursor.Length}";
            if (MessageHash.Read(cursor.Span).IsZero) return "all zeroes cursor hash";
        }
        if (request.ContentTopics.Count > _options.MaxContentTopics) return "too many content topics";
        if (request.MessageHashes.Count > _options.MaxHashes) return $"too many message hashes (at most {_options.MaxHashes})";
        foreach (var h in request.MessageHashes)
            if (h.Length != MessageHash.Length) return $"invalid message hash length: {h.Length}";
        return null;
    }

    /// <summary>Collects the page; sets where to resume when the hidden-row budget ran out before the page filled.</summary>
    static void CollectByFilter(StoreView view, StoreQuery request, in PageQuery query, PageRows rows)
    {
        uint[] pubsubs;
        if (request.PubsubTopic is not { } pubsubTopic) pubsubs = view.Topics.PubsubIdsInOrder();
        else if (view.Topics.TryGetPubsubId(pubsubTopic, out uint only)) pubsubs = [only];
        else return;

        // Content topic ids, each once; unknown topics match nothing.
        Span<uint> contents = stackalloc uint[request.ContentTopics.Count];
        int contentCount = 0;
        foreach (var topic in request.ContentTopics)
            if (view.Topics.TryGetContentId(topic, out uint c) && !contents[..contentCount].Contains(c)) contents[contentCount++] = c;
        if (request.ContentTopics.Count > 0 && contentCount == 0) return;

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
            rows.Resume = Merge(sources, query, rows);
        }
        finally
        {
            foreach (var source in sources) source.Dispose();
        }
    }

    /// <summary>k-way merge of the sources in walking order, taking limit + 1 rows (the extra one only says whether more exist).</summary>
    static MessageLocation? Merge(List<IndexCursor> sources, in PageQuery query, PageRows rows)
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
            // Copied straight from the iterator, only for rows the page returns — never for the look-ahead row.
            bool holds = query.IncludeData && source.HoldsMessage;
            rows.Add(location, holds ? source.CurrentValue : default, holds);
            if (rows.More) break;
            source.Advance();
            if (source.Valid) heap.Enqueue(source, source.Current);
        }
        return null;
    }

    static readonly Comparer<MessageLocation> AscendingOrder = Comparer<MessageLocation>.Create((a, b) => a.CompareTime(b));
    static readonly Comparer<MessageLocation> DescendingOrder = Comparer<MessageLocation>.Create((a, b) => b.CompareTime(a));

    static void CollectByHash(StoreView view, StoreQuery request, in PageQuery query, PageRows rows)
    {
        uint pubsub = 0;
        if (request.PubsubTopic is { } pubsubTopic && !view.Topics.TryGetPubsubId(pubsubTopic, out pubsub)) return;
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
            if (request.PubsubTopic is not null && l.PubsubId != pubsub) continue;
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
        for (int i = 0; i < take; i++) rows.Add(found[i], default, holdsStored: false);
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
}
