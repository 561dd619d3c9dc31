namespace StoreSync.Storage;

/// <summary>What RocksDB holds in memory for a store, from its own accounting (bytes).</summary>
/// <param name="Memtables">All memtables of all families, active and not yet flushed (bounded by <see cref="MessageStoreOptions.MemtableBudgetBytes"/>).</param>
/// <param name="BlockCache">The shared block cache: data, index and filter blocks and the memtables' charge (bounded by
/// <see cref="MessageStoreOptions.BlockCacheBytes"/> + <see cref="MessageStoreOptions.MemtableBudgetBytes"/>).</param>
/// <param name="BlockCachePinned">The part of <paramref name="BlockCache"/> that cannot be evicted now (the memtables' charge, pinned top-level index and filter partitions, blocks in use by readers).</param>
/// <param name="TableReaders">Open SST readers outside the block cache (RocksDB's estimate).</param>
public readonly record struct StoreMemoryUsage(long Memtables, long BlockCache, long BlockCachePinned, long TableReaders)
{
    public override string ToString() =>
        $"memtables {Memtables / 1048576.0:N0} MiB, block cache {BlockCache / 1048576.0:N0} MiB ({BlockCachePinned / 1048576.0:N0} MiB pinned), table readers {TableReaders / 1048576.0:N0} MiB";
}
