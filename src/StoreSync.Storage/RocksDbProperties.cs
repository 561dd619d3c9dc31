using RocksDbSharp;

namespace StoreSync.Storage;

/// <summary>RocksDB's own figures of a store's database: the memory it holds and the background work it owes.</summary>
internal sealed class RocksDbProperties(RocksDb db, ColumnFamilyHandle[] families, ColumnFamilyHandle messages)
{
    /// <summary>Memtables, block cache (and its pinned part) and table readers (spec/storage.md).</summary>
    public StoreMemoryUsage MemoryUsage()
    {
        long memtables = 0, readers = 0;
        foreach (var family in families)
        {
            memtables += Property("rocksdb.size-all-mem-tables", family);
            readers += Property("rocksdb.estimate-table-readers-mem", family);
        }
        return new StoreMemoryUsage(memtables, Property("rocksdb.block-cache-usage", messages), Property("rocksdb.block-cache-pinned-usage", messages), readers);
    }

    /// <summary>Flushes and compactions running, flushes pending and the compaction bytes owed.</summary>
    public StoreBackgroundWork BackgroundWork()
    {
        long pendingBytes = 0, flushing = 0;
        foreach (var family in families)
        {
            pendingBytes += Property("rocksdb.estimate-pending-compaction-bytes", family);
            flushing += Property("rocksdb.mem-table-flush-pending", family);
        }
        long running = Property("rocksdb.num-running-compactions", messages) + Property("rocksdb.num-running-flushes", messages); // database-wide
        return new StoreBackgroundWork(running, flushing, pendingBytes);
    }

    long Property(string name, ColumnFamilyHandle family) => long.TryParse(db.GetProperty(name, family), out long value) ? value : 0;
}
