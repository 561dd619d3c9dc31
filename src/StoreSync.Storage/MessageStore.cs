using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RocksDbSharp;

namespace StoreSync.Storage;

/// <summary>The durable message store: RocksDB with a primary order and two secondary indexes kept in one atomic batch per write.</summary>
/// <remarks>
/// Column families (spec/storage.md): <c>messages</c> (pubsub, content, time, hash) → message; <c>hashes</c> hash → location;
/// <c>time</c> (pubsub, time, hash) → content id; <c>meta</c> topic dictionary and counters. Writes are serialised by a lock;
/// readers never take it and read from snapshots.
/// This file holds opening, the write lock and closing; the concerns are in MessageStore.Writes, .Deletes, .Reads,
/// .Figures and .Horizons (partial: they share the private database, lock and families).
/// </remarks>
public sealed partial class MessageStore : IDisposable
{
    const string MessagesFamily = RocksDbSettings.MessagesFamily, HashesFamily = RocksDbSettings.HashesFamily,
        TimeFamily = RocksDbSettings.TimeFamily, MetaFamilyName = RocksDbSettings.MetaFamily;
    const int DeleteChunk = 10_000;

    readonly RocksDb _db;
    readonly ColumnFamilyHandle _messages, _hashes, _time, _meta;
    readonly ColumnFamilyHandle[] _families;
    readonly WriteOptions _writeOptions;
    readonly ReadOptions _lookupOptions = new();
    readonly TopicDictionary _topics;
    readonly TopicCounters _counters;
    readonly RetentionHorizons _horizons;
    readonly BlobGarbageCollection _blobGarbage;
    readonly Lock _writeLock = new();
    readonly StoreObservers _observers;
    readonly RocksDbProperties _properties;
    readonly List<IStoreIngressFilter> _ingressFilters = [];
    readonly List<Action<ulong>> _closingHandlers = [];
    readonly ILogger _logger;
    bool _disposed;
    int _openViews;

    MessageStore(RocksDb db, MessageStoreOptions options, ILogger logger)
    {
        _db = db;
        _messages = db.GetColumnFamily(MessagesFamily);
        _hashes = db.GetColumnFamily(HashesFamily);
        _time = db.GetColumnFamily(TimeFamily);
        _meta = db.GetColumnFamily(MetaFamilyName);
        _families = [_messages, _hashes, _time, _meta];
        _writeOptions = new WriteOptions().SetSync(options.SyncWrites);
        _logger = logger;
        _observers = new StoreObservers(logger);
        _properties = new RocksDbProperties(db, _families, _messages);
        _topics = TopicDictionary.Load(db, _meta);
        _counters = TopicCounters.Load(db, _meta);
        _horizons = RetentionHorizons.Load(db, _meta);
        _blobGarbage = new BlobGarbageCollection(db, _messages, logger);
        _blobGarbage.Check();
        Path = db.Path;
    }

    public string Path { get; }

    internal ILogger Logger => _logger;

    internal TopicCounters Counters => _counters;

    internal TopicDictionary Topics => _topics;

    /// <summary>Opens (creating if needed) the store in <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The folder is in use by another process, unreadable, or not a StoreSync store.</exception>
    public static MessageStore Open(string path, MessageStoreOptions? options = null, ILogger? logger = null)
    {
        options ??= new MessageStoreOptions();
        MallocSettings.Apply();
        Directory.CreateDirectory(path);
        var (dbOptions, families, writeBufferManager) = RocksDbSettings.For(options);
        try
        {
            RocksDb db;
            try { db = RocksDb.Open(dbOptions, path, families); }
            finally { RocksDbSettings.Release(writeBufferManager); }
            var store = new MessageStore(db, options, logger ?? NullLogger.Instance);
            store.CheckSchema();
            return store;
        }
        catch (RocksDbException e) when (e.Message.Contains("lock", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"the store at {System.IO.Path.GetFullPath(path)} is in use by another process (RocksDB lock held): {e.Message}", e);
        }
        catch (RocksDbException e)
        {
            throw new IOException($"cannot open the store at {System.IO.Path.GetFullPath(path)}: {e.Message}", e);
        }
    }

    void CheckSchema()
    {
        ReadOnlySpan<byte> key = "schema"u8;
        var version = _db.Get(key, _meta);
        if (version is null)
        {
            _db.Put(key, [1], _meta);
            return;
        }
        if (version is not [1])
        {
            Dispose();
            throw new IOException($"the store at {Path} has schema version {Convert.ToHexString(version)}, this StoreSync reads version 01");
        }
    }

    public void AddObserver(IMessageStoreObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_writeLock) _observers.Add(observer);
    }

    /// <summary>Runs <paramref name="action"/> while no batch can commit (under the write lock; it may call <see cref="AddObserver"/>
    /// and read, never write). Lets an observer line up a snapshot with the batches it is told of (the sync index's build).</summary>
    public void RunWithWritesPaused(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            action();
        }
    }

    /// <summary>
    /// RocksDB's latest sequence number: it moves with every committed write (messages, counters, meta) and with nothing
    /// else, and is the same after a reopen. Equal values mean no write happened in between: a derived structure saved with it
    /// (the sync fingerprint index) is still exact.
    /// </summary>
    public ulong LastSequenceNumber => _db.GetLatestSequenceNumber();

    /// <summary>
    /// Registers <paramref name="handler"/> to run once when the store is disposed, under the write lock after the last write and
    /// every reader has finished, just before RocksDB is closed, with <see cref="LastSequenceNumber"/>: the one moment no write
    /// can follow (the sync indexes save themselves here). A handler that throws is logged and does not stop the close.
    /// </summary>
    public void AddClosingHandler(Action<ulong> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            _closingHandlers.Add(handler);
        }
    }

    internal ColumnFamilyHandle MetaFamily => _meta;

    /// <summary>Runs <paramref name="work"/> under the write lock with a fresh view: what it reads is the state its writes change.</summary>
    internal T Exclusive<T>(Func<StoreView, T> work)
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            using var view = OpenView();
            return work(view);
        }
    }

    /// <summary>A consistent read-only snapshot for one query page or scan.</summary>
    internal StoreView OpenView()
    {
        // Dekker-style handshake with Dispose: count the view first, then check; Dispose marks first, then waits for zero.
        Interlocked.Increment(ref _openViews);
        if (Volatile.Read(ref _disposed))
        {
            Interlocked.Decrement(ref _openViews);
            throw new ObjectDisposedException(nameof(MessageStore));
        }
        try
        {
            return new StoreView(_db, _messages, _hashes, _time, _topics, _counters, () => Interlocked.Decrement(ref _openViews));
        }
        catch
        {
            Interlocked.Decrement(ref _openViews);
            throw;
        }
    }

    /// <summary>Closes the database once every open read (query page, scan, time-index reader) has finished.</summary>
    /// <exception cref="InvalidOperationException">Readers were still open after <see cref="DisposeWaitForReaders"/>; the database is left open rather than closed under them.</exception>
    public void Dispose()
    {
        lock (_writeLock)
        {
            if (_disposed) return;
            Volatile.Write(ref _disposed, true);
            Interlocked.MemoryBarrier();
            var waited = System.Diagnostics.Stopwatch.StartNew();
            var spin = new SpinWait();
            while (Volatile.Read(ref _openViews) > 0)
            {
                if (waited.Elapsed > DisposeWaitForReaders)
                    throw new InvalidOperationException($"{Volatile.Read(ref _openViews)} store reader(s) still open after {DisposeWaitForReaders.TotalSeconds:0} s; the store at {Path} is left open");
                spin.SpinOnce(sleep1Threshold: 20);
            }
            if (_closingHandlers.Count > 0)
            {
                ulong sequence = _db.GetLatestSequenceNumber();
                foreach (var handler in _closingHandlers)
                {
                    try { handler(sequence); }
                    catch (Exception e) { _logger.LogError(e, "A closing handler of the store at {Path} failed", Path); }
                }
            }
            _db.Dispose();
            _ingestBatch.Dispose();
        }
    }

    /// <summary>How long <see cref="Dispose"/> waits for open readers before giving up.</summary>
    public static readonly TimeSpan DisposeWaitForReaders = TimeSpan.FromSeconds(30);
}
