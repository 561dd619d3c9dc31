using RocksDbSharp;

namespace StoreSync.Storage;

/// <summary>The RocksDB options of a <see cref="MessageStore"/>: column families, memory budget, value separation.</summary>
/// <remarks>
/// Why these choices (spec/storage.md, "RocksDB settings"): Waku payloads are mostly encrypted, and index keys end in random
/// hashes, so compression costs CPU for nothing except on the messages family's keys; message bodies go to blob files so
/// compaction moves ~60-byte index entries instead of rewriting kilobyte bodies at every level; memtables, index and filter
/// blocks are charged to fixed budgets so memory does not grow with the history.
/// </remarks>
internal static class RocksDbSettings
{
    public const string MessagesFamily = "messages", HashesFamily = "hashes", TimeFamily = "time", MetaFamily = "meta";

    /// <summary>Message bodies of at least this many bytes are kept in blob files, smaller ones inline in the SST.</summary>
    const ulong MinBlobBytes = 256;

    const ulong BlobFileBytes = 256UL << 20;

    /// <summary>Memtable arena blocks, below <see cref="MallocSettings"/>' mmap threshold.</summary>
    /// <remarks>
    /// RocksDB's default (1 MiB for these write buffers) sends every arena block to mmap, so each memtable faults in and zeroes
    /// fresh pages for every byte written: measured, 5 % of ingest CPU in page faults under the copy into the memtable, ten times
    /// RocksDB's own floor (spec/performance.md, "Ingest against RocksDB's floor"). Blocks of this size come from malloc's free
    /// lists, so the next memtable reuses the pages of the one just flushed; the budget (<see cref="MessageStoreOptions.MemtableBudgetBytes"/>)
    /// still bounds how many are live.
    /// </remarks>
    const ulong MemtableArenaBlockBytes = 256UL << 10;

    /// <summary>Size of one index or filter partition.</summary>
    const ulong MetadataBlockBytes = 4096;

    /// <summary>Leveled compaction shaped for keys that grow at the new end of each prefix (the messages and time families).</summary>
    /// <remarks>
    /// Every flush holds the newest messages of every content topic, so an L0 file spans the whole key range of its family and
    /// each L0 → L1 compaction rewrites all of L1. RocksDB's default (dynamic level sizes) makes the bottom level L1's target
    /// while the family is small, i.e. every such compaction rewrote the whole family: measured, 7 µs of compaction CPU per
    /// ingested message at 1M messages with 32 MiB memtables. A small fixed L1 with small files keeps that rewrite bounded,
    /// and below L1 a file of one topic's newest messages overlaps almost nothing, so it moves down without being rewritten.
    /// </remarks>
    static ColumnFamilyOptions TimeOrdered(ColumnFamilyOptions family) => family
        .SetLevelCompactionDynamicLevelBytes(false)
        .SetMaxBytesForLevelBase(TimeOrderedLevel1Bytes)
        .SetTargetFileSizeBase(TimeOrderedFileBytes)
        .SetLevel0FileNumCompactionTrigger(TimeOrderedLevel0Files)
        .SetLevel0SlowdownWritesTrigger(TimeOrderedLevel0Files * 3)
        .SetLevel0StopWritesTrigger(TimeOrderedLevel0Files * 5);

    const ulong TimeOrderedLevel1Bytes = 32UL << 20, TimeOrderedFileBytes = 8UL << 20;
    const int TimeOrderedLevel0Files = 8;

    /// <returns>The options, and the write buffer manager they hold a reference to: <see cref="Release"/> it once the database is
    /// open (RocksDB keeps its own reference).</returns>
    public static (DbOptions Db, ColumnFamilies Families, IntPtr WriteBufferManager) For(MessageStoreOptions options)
    {
        // Memtables are charged to the block cache and writes stall at the memtable budget: memtables and cached blocks together
        // never pass BlockCacheBytes + MemtableBudgetBytes. Without it the memtables overshot the budget by up to 14 MiB while
        // a flush ran (78 MiB seen against 64), on top of a full cache; and a store that only serves queries had half the memory
        // for blocks.
        var cache = Cache.CreateLru((ulong)options.BlockCacheBytes + options.MemtableBudgetBytes);
        var writeBufferManager = Native.Instance.rocksdb_write_buffer_manager_create_with_cache((UIntPtr)options.MemtableBudgetBytes, cache.Handle, 1);
        ColumnFamilyOptions Family(bool pointLookups, Compression compression, ulong writeBuffer)
        {
            var table = new BlockBasedTableOptions()
                .SetBlockCache(cache)
                .SetFilterPolicy(BloomFilterPolicy.Create(10, false))
                .SetWholeKeyFiltering(pointLookups)
                .SetCacheIndexAndFilterBlocks(true)
                .SetPinL0FilterAndIndexBlocksInCache(true)
                .SetIndexType(BlockBasedTableIndexType.TwoLevelIndex);
            // Partitioned index and filters: a 10M-message store has ~60 MB of index and filter blocks, as much as the whole
            // cache. Unpartitioned, each SST's filter and index is one block of megabytes that a single lookup must load
            // whole; partitioned, only the small top level is pinned and 4 KiB partitions come and go like data blocks.
            Native.Instance.rocksdb_block_based_options_set_partition_filters(table.Handle, 1);
            Native.Instance.rocksdb_block_based_options_set_pin_top_level_index_and_filter(table.Handle, 1);
            Native.Instance.rocksdb_block_based_options_set_metadata_block_size(table.Handle, MetadataBlockBytes);
            Native.Instance.rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(table.Handle, 1);
            var family = new ColumnFamilyOptions()
                .SetCompression(compression)
                .SetWriteBufferSize(writeBuffer)
                .SetBlockBasedTableFactory(table);
            Native.Instance.rocksdb_options_set_arena_block_size(family.Handle, (UIntPtr)MemtableArenaBlockBytes);
            return family;
        }

        var messages = TimeOrdered(Family(pointLookups: true, Compression.Lz4, options.WriteBufferBytes));
        Native.Instance.rocksdb_options_set_enable_blob_files(messages.Handle, 1);
        Native.Instance.rocksdb_options_set_min_blob_size(messages.Handle, MinBlobBytes);
        Native.Instance.rocksdb_options_set_blob_file_size(messages.Handle, BlobFileBytes);
        Native.Instance.rocksdb_options_set_blob_compression_type(messages.Handle, (int)Compression.No);
        // Eviction deletes the oldest messages, whose bodies sit in the oldest blob files: GC during compaction reclaims them.
        Native.Instance.rocksdb_options_set_enable_blob_gc(messages.Handle, 1);

        var hashes = Family(pointLookups: true, Compression.No, options.WriteBufferBytes / 2);
        // Every ingested message asks "is this hash stored?", almost always "no": a memtable bloom answers that without
        // walking the skip list.
        Native.Instance.rocksdb_options_set_memtable_prefix_bloom_size_ratio(hashes.Handle, 0.1);
        Native.Instance.rocksdb_options_set_memtable_whole_key_filtering(hashes.Handle, 1);
        var families = new ColumnFamilies(new ColumnFamilyOptions())
        {
            { MessagesFamily, messages },
            { HashesFamily, hashes },
            { TimeFamily, TimeOrdered(Family(pointLookups: false, Compression.No, options.WriteBufferBytes / 2)) },
            { MetaFamily, new ColumnFamilyOptions() },
        };
        var db = new DbOptions()
            .SetCreateIfMissing(true)
            .SetCreateMissingColumnFamilies(true)
            .IncreaseParallelism(Math.Max(2, Environment.ProcessorCount))
            .SetKeepLogFileNum(4);
        Native.Instance.rocksdb_options_set_write_buffer_manager(db.Handle, writeBufferManager);
        return (db, families, writeBufferManager);
    }

    public static void Release(IntPtr writeBufferManager) => Native.Instance.rocksdb_write_buffer_manager_destroy(writeBufferManager);
}
