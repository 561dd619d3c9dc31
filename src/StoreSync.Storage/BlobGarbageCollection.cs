using Microsoft.Extensions.Logging;
using RocksDbSharp;

namespace StoreSync.Storage;

/// <summary>Turns RocksDB's blob garbage collection of the messages family on while its blob files hold garbage, and off while
/// they hold (almost) none.</summary>
/// <remarks>
/// Blob GC relocates the live bodies of the oldest blob files whenever compaction meets their keys, garbage or not: in a store
/// that only grows (a node filling its history) that was 2–3 µs of CPU per ingested message for nothing. Garbage only comes
/// from deletes (eviction, explicit deletes), and without GC RocksDB still drops a blob file once every body in it is garbage;
/// what needs GC is a file that keeps a few live bodies among many dead ones (a community evicted out of files it shares with
/// others). So GC runs while garbage is at least <see cref="OnShare"/> of the blob bytes and stops when it is under
/// <see cref="OffShare"/> (the gap keeps it from flapping).
/// </remarks>
internal sealed class BlobGarbageCollection(RocksDb db, ColumnFamilyHandle messages, ILogger logger)
{
    public const double OnShare = 0.20, OffShare = 0.05;

    /// <summary>Checks after this many writes (each check is two property reads).</summary>
    const int CheckEvery = 64;

    int _writes;

    public bool Collecting { get; private set; } = true; // the family opens with GC on; the first check decides

    public BlobFileFigures Figures() => new(Property("rocksdb.live-blob-file-size"), Property("rocksdb.live-blob-file-garbage-size"), Collecting);

    /// <summary>Called after each committed write; <paramref name="deleted"/> writes are checked at once, others every 64th.</summary>
    public void AfterWrite(bool deleted)
    {
        if (!deleted && ++_writes < CheckEvery) return;
        _writes = 0;
        Check();
    }

    public void Check()
    {
        var figures = Figures();
        double share = figures.TotalBytes == 0 ? 0 : (double)figures.GarbageBytes / figures.TotalBytes;
        bool collect = Collecting ? share >= OffShare : share >= OnShare;
        if (collect == Collecting) return;
        Native.Instance.rocksdb_set_options_cf(db.Handle, messages.Handle, 1, ["enable_blob_garbage_collection"], [collect ? "true" : "false"], out IntPtr error);
        if (error != IntPtr.Zero) throw new RocksDbException(error);
        Collecting = collect;
        logger.LogInformation("Blob garbage collection {State}: {Garbage:N1} of {Total:N1} MiB in blob files is garbage ({Share:P0})",
            collect ? "on" : "off", figures.GarbageBytes / 1048576.0, figures.TotalBytes / 1048576.0, share);
    }

    long Property(string name) => long.TryParse(db.GetProperty(name, messages), out long value) ? value : 0;
}
