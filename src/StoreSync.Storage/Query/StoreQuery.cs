namespace StoreSync.Storage.Query;

/// <summary>What a Store query asks for, in the terms of the store (spec/store.md); the wire request maps onto it field for field.</summary>
/// <remarks>Cursor and hashes stay raw bytes: checking their length is part of answering (nwaku's INVALID_QUERY causes).</remarks>
public sealed record StoreQuery
{
    /// <summary>The caller's id for the query, only for logs.</summary>
    public string RequestId { get; init; } = "";

    /// <summary>Null: every pubsub topic.</summary>
    public string? PubsubTopic { get; init; }

    /// <summary>Empty: every content topic.</summary>
    public IReadOnlyList<string> ContentTopics { get; init; } = [];

    /// <summary>Earliest timestamp, inclusive; null: no bound.</summary>
    public long? TimeStart { get; init; }

    /// <summary>Latest timestamp, inclusive (as nwaku); null: no bound.</summary>
    public long? TimeEnd { get; init; }

    /// <summary>Non-empty: a lookup of these hashes instead of a walk over topics.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> MessageHashes { get; init; } = [];

    /// <summary>The hash of the row to continue after (exclusive); null: the first page.</summary>
    public ReadOnlyMemory<byte>? Cursor { get; init; }

    /// <summary>Whether rows carry their stored message and pubsub topic, not only their hash.</summary>
    public bool IncludeData { get; init; }

    /// <summary>Oldest first; false pages from the newest backwards (each page still ascending).</summary>
    public bool Forward { get; init; }

    /// <summary>Rows per page; null or 0: <see cref="StoreQueryOptions.DefaultPageSize"/>, capped at <see cref="StoreQueryOptions.MaxPageSize"/>.</summary>
    public ulong? Limit { get; init; }
}
