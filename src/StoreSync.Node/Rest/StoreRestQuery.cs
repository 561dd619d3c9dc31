using System.Globalization;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using StoreSync.Core;
using StoreSync.Waku.Proto;

namespace StoreSync.Node.Rest;

/// <summary>Turns the query string of <c>GET /store/v3/messages</c> into a StoreQueryRequest, with nwaku's parameter names and defaults.</summary>
/// <remarks>
/// nwaku REST: includeData defaults to false; ascending defaults to true (forward), unlike the wire protocol;
/// times are positive nanoseconds (0 or negative = unset); hashes and cursor are base64 (URL-safe accepted), hashes comma-separated.
/// </remarks>
public static class StoreRestQuery
{
    public static bool TryParse(IQueryCollection query, out StoreQueryRequest request, out string error)
    {
        request = new StoreQueryRequest { RequestId = Guid.NewGuid().ToString(), PaginationForward = true };
        error = "";
        string? Get(string name) => query.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v.ToString()) ? v.ToString() : null;

        if (Get("includeData") is { } include)
        {
            if (!bool.TryParse(include, out bool b)) { error = $"include data parsing error: '{include}' is not true or false"; return false; }
            request.IncludeData = b;
        }
        if (Get("pubsubTopic") is { } pubsub) request.PubsubTopic = pubsub;
        if (Get("contentTopics") is { } topics)
            foreach (var t in topics.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) request.ContentTopics.Add(t);
        if (!TryTime(Get("startTime"), "startTime", out long? start, ref error)) return false;
        if (start is { } s) request.TimeStart = s;
        if (!TryTime(Get("endTime"), "endTime", out long? end, ref error)) return false;
        if (end is { } e) request.TimeEnd = e;
        if (Get("hashes") is { } hashes)
        {
            var parts = hashes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length > 100) { error = $"too many hashes: {parts.Length} (at most 100 per query)"; return false; }
            foreach (var h in parts)
            {
                if (!MessageHash.TryParse(h, out var hash)) { error = $"waku message hash parsing error: '{h}' is not a 32-byte hash"; return false; }
                request.MessageHashes.Add(ByteString.CopyFrom(hash.ToArray()));
            }
        }
        if (Get("cursor") is { } cursor)
        {
            if (!MessageHash.TryParse(cursor, out var hash)) { error = $"waku message hash parsing error: cursor '{cursor}' is not a 32-byte hash"; return false; }
            request.PaginationCursor = ByteString.CopyFrom(hash.ToArray());
        }
        if (Get("ascending") is { } ascending)
        {
            if (!bool.TryParse(ascending, out bool forward)) { error = $"ascending parsing error: '{ascending}' is not true or false"; return false; }
            request.PaginationForward = forward;
        }
        if (Get("pageSize") is { } pageSize)
        {
            if (!ulong.TryParse(pageSize, NumberStyles.None, CultureInfo.InvariantCulture, out ulong limit)) { error = $"page size parsing error: '{pageSize}' is not a non-negative integer"; return false; }
            request.PaginationLimit = limit;
        }
        return true;
    }

    static bool TryTime(string? text, string name, out long? value, ref string error)
    {
        value = null;
        if (text is null) return true;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long nanos))
        {
            error = $"time parsing error: {name} '{text}' is not an integer number of nanoseconds";
            return false;
        }
        if (nanos > 0) value = nanos;
        return true;
    }
}
