namespace StoreSync.Storage.Query;

/// <summary>Why the store could not answer a query: the kind (nwaku's archive error kinds, or the store closing) and its cause.</summary>
/// <param name="Cause">nwaku's wording of the cause, e.g. "invalid cursor hash length: 5", "cursor not found".</param>
public sealed record StoreQueryError(StoreQueryErrorKind Kind, string Cause);

/// <summary>The kinds of <see cref="StoreQueryError"/>.</summary>
public enum StoreQueryErrorKind
{
    /// <summary>The query breaks a rule of the protocol or a limit (nwaku's INVALID_QUERY).</summary>
    InvalidQuery,

    /// <summary>Reading failed: unknown cursor, damaged data, a RocksDB error (nwaku's DRIVER_ERROR).</summary>
    DriverError,

    /// <summary>The store is closed or closing.</summary>
    Unavailable,
}
