namespace StoreSync.Storage;

/// <summary>Tuning and durability settings of a <see cref="MessageStore"/>.</summary>
public sealed record MessageStoreOptions
{
    /// <summary>
    /// fsync the WAL on every write. Off by default: a write that returned is in the WAL in the OS page cache and survives
    /// the process being killed, but not a power loss or kernel crash within the OS flush interval (spec/storage.md).
    /// </summary>
    public bool SyncWrites { get; init; }

    /// <summary>Block cache for data, index and filter blocks; the cache's capacity is this plus <see cref="MemtableBudgetBytes"/>,
    /// and the memtables are charged to it, so blocks may use what the memtables do not.</summary>
    public long BlockCacheBytes { get; init; } = 64L << 20;

    /// <summary>Memtable size of the messages family (the index families get half each).</summary>
    public ulong WriteBufferBytes { get; init; } = 32UL << 20;

    /// <summary>All memtables together: at 7/8 of it RocksDB flushes the largest, at it writes wait for the flush, so memory does not
    /// grow with the write rate.</summary>
    /// <remarks>
    /// 64 MiB keeps a 10M-message store's peak RSS under 300 MiB (293 MiB measured). 128 MiB (with 64 MiB write buffers) saves
    /// ~5 µs of flush and compaction CPU per ingested message and peaks 45–90 MiB higher (spec/performance.md, "Storage").
    /// </remarks>
    public ulong MemtableBudgetBytes { get; init; } = 64UL << 20;
}
