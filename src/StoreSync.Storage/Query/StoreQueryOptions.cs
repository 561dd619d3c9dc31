namespace StoreSync.Storage.Query;

/// <summary>Limits of the Store v3 query engine; defaults are nwaku's.</summary>
public sealed record StoreQueryOptions
{
    /// <summary>nwaku's DefaultPageSize: used when the limit is absent or 0.</summary>
    public int DefaultPageSize { get; init; } = 20;

    /// <summary>nwaku's MaxPageSize: larger limits are lowered to it.</summary>
    public int MaxPageSize { get; init; } = 100;

    /// <summary>nwaku's MaxContentTopicsPerQuery.</summary>
    public int MaxContentTopics { get; init; } = 10;

    /// <summary>Hashes per lookup query (nwaku's Postgres driver limit).</summary>
    public int MaxHashes { get; init; } = 100;

    /// <summary>Rows a page may skip as hidden (<see cref="IStoreVisibility"/>) before it ends early with a cursor.</summary>
    public int MaxHiddenRowsPerPage { get; init; } = 10_000;
}
