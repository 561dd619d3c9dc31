namespace StoreSync.Storage;

/// <summary>Tuning and durability settings of a <see cref="MessageStore"/>.</summary>
public sealed record MessageStoreOptions
{
    /// <summary>
    /// fsync the WAL on every write. Off by default: a write that returned is in the WAL in the OS page cache and survives
    /// the process being killed, but not a power loss or kernel crash within the OS flush interval (spec/storage.md).
    /// </summary>
    public bool SyncWrites { get; init; }

    public long BlockCacheBytes { get; init; } = 64L << 20;

    public ulong WriteBufferBytes { get; init; } = 64UL << 20;
}
