namespace StoreSync.Storage;

/// <summary>RocksDB's background work of a store at one moment, from its own properties.</summary>
/// <param name="Running">Flushes and compactions running now (database-wide).</param>
/// <param name="FlushesPending">Families with a memtable waiting to be flushed.</param>
/// <param name="PendingCompactionBytes">RocksDB's estimate of the bytes compaction still has to rewrite to bring every level within its target.</param>
public readonly record struct StoreBackgroundWork(long Running, long FlushesPending, long PendingCompactionBytes)
{
    public bool Idle => Running == 0 && FlushesPending == 0 && PendingCompactionBytes == 0;

    public override string ToString() =>
        $"{Running} running, {FlushesPending} flushes pending, {PendingCompactionBytes / 1048576.0:N0} MiB of compaction pending";
}
