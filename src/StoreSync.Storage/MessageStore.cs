using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RocksDbSharp;
using StoreSync.Core;
using StoreSync.Core.Proto;

namespace StoreSync.Storage;

/// <summary>The durable message store: RocksDB with a primary order and two secondary indexes kept in one atomic batch per write.</summary>
/// <remarks>
/// Column families (spec/storage.md): <c>messages</c> (pubsub, content, time, hash) → message; <c>hashes</c> hash → location;
/// <c>time</c> (pubsub, time, hash) → content id; <c>meta</c> topic dictionary and counters. Writes are serialised by a lock;
/// readers never take it and read from snapshots.
/// </remarks>
public sealed class MessageStore : IDisposable
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
    readonly List<IMessageStoreObserver> _observers = [];
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

    /// <summary>Adds a check every new message of an ingest batch must pass (under the write lock); refused ones are counted in <see cref="IngestResult.Refused"/>.</summary>
    public void AddIngressFilter(IStoreIngressFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        lock (_writeLock) _ingressFilters.Add(filter);
    }

    /// <summary>Stores the messages not stored yet, atomically with every index and counter. Validation is the caller's.</summary>
    public IngestResult Ingest(IReadOnlyList<IngestItem> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        for (int i = 0; i < batch.Count; i++)
        {
            if (string.IsNullOrEmpty(batch[i].PubsubTopic)) throw new ArgumentException($"item {i} of the batch has no pubsub topic", nameof(batch));
            if (batch[i].Message is null) throw new ArgumentException($"item {i} of the batch has no message", nameof(batch));
        }
        // Hashing and serialising need no lock and are most of a batch's CPU: done first, on every core for large batches.
        var prepared = PreparedBatch.Prepare(batch);
        try
        {
            return Write(batch, prepared);
        }
        finally
        {
            prepared.Dispose();
        }
    }

    IngestResult Write(IReadOnlyList<IngestItem> batch, PreparedBatch prepared)
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            using var write = new WriteBatch();
            var additions = _topics.BeginAdditions(write, _meta);
            var deltas = new Dictionary<(uint, uint), TopicFigures>();
            var seen = new HashSet<MessageHash>(batch.Count);
            var inserted = new List<MessageHash>(batch.Count);
            var changes = new List<StoreChange>(batch.Count);
            var rows = new BatchRow[batch.Count];
            var stored = new bool[batch.Count];
            HashPresence.Find(_db, _hashes, _lookupOptions, prepared.Hashes, stored);
            int duplicates = 0, refused = 0, count = 0;
            for (int i = 0; i < batch.Count; i++)
            {
                var item = batch[i];
                var hash = prepared.Hashes[i];
                if (!seen.Add(hash) || stored[i])
                {
                    duplicates++;
                    continue;
                }
                if (!Admits(item, hash))
                {
                    refused++;
                    continue;
                }
                uint p = additions.Pubsub(item.PubsubTopic), c = additions.Content(item.Message.ContentTopic);
                long ts = item.Message.Timestamp;
                int length = prepared.Value(i).Length;
                rows[count++] = new BatchRow(p, c, ts, hash, i);
                deltas[(p, c)] = deltas.GetValueOrDefault((p, c)) + new TopicFigures(1, length);
                inserted.Add(hash);
                changes.Add(new StoreChange(item.PubsubTopic, item.Message.ContentTopic, ts, hash, length, p, c));
            }
            if (count > 0)
            {
                PutIndexed(write, rows.AsSpan(0, count), prepared);
                var figures = _counters.Stage(deltas, write, _meta);
                additions.Publish();
                try
                {
                    _db.Write(write, _writeOptions);
                }
                catch
                {
                    additions.Rollback();
                    throw;
                }
                _counters.Apply(figures);
                _blobGarbage.AfterWrite(deleted: false);
                Notify(changes, inserted: true);
            }
            return new IngestResult(inserted.Count, duplicates, inserted) { Refused = refused };
        }
    }

    /// <summary>Adds each new message's three entries to the batch, family by family, each in (about) ascending key order (<see cref="BatchOrders"/>).</summary>
    void PutIndexed(WriteBatch write, ReadOnlySpan<BatchRow> rows, PreparedBatch prepared)
    {
        Span<byte> messageKey = stackalloc byte[StoreKeys.MessageKeyLength];
        Span<byte> timeKey = stackalloc byte[StoreKeys.TimeKeyLength];
        Span<byte> hashKey = stackalloc byte[MessageHash.Length];
        Span<byte> location = stackalloc byte[StoreKeys.HashValueLength];
        Span<byte> contentValue = stackalloc byte[4];
        using var orders = BatchOrders.For(rows);
        orders.ByTopicPairThenTime(rows);
        for (int k = 0; k < rows.Length; k++)
        {
            ref readonly var row = ref rows[orders.Order[k]];
            StoreKeys.WriteMessageKey(messageKey, row.Pubsub, row.Content, row.Timestamp, row.Hash);
            write.Put(messageKey, prepared.Value(row.Index), _messages); // the batch copies it
        }
        orders.ByHash(rows);
        for (int k = 0; k < rows.Length; k++)
        {
            ref readonly var row = ref rows[orders.Order[k]];
            row.Hash.WriteTo(hashKey);
            StoreKeys.WriteHashValue(location, row.Pubsub, row.Content, row.Timestamp);
            write.Put(hashKey, location, _hashes);
        }
        orders.ByPubsubThenTime(rows);
        for (int k = 0; k < rows.Length; k++)
        {
            ref readonly var row = ref rows[orders.Order[k]];
            StoreKeys.WriteTimeKey(timeKey, row.Pubsub, row.Timestamp, row.Hash);
            BinaryPrimitives.WriteUInt32BigEndian(contentValue, row.Content);
            write.Put(timeKey, contentValue, _time);
        }
    }

    bool Admits(in IngestItem item, in MessageHash hash)
    {
        foreach (var filter in _ingressFilters)
            if (!filter.Admits(item.PubsubTopic, item.Message.ContentTopic, item.Message.Timestamp, hash)) return false;
        return true;
    }

    /// <summary>The form a message is stored in: as received, less what nwaku does not keep either (RLN proof, ephemeral flag).</summary>
    internal static WakuMessage StoredForm(WakuMessage message)
    {
        if (!message.HasRateLimitProof && !message.HasEphemeral && message.HasPayload) return message;
        var stored = message.Clone();
        stored.ClearRateLimitProof();
        stored.ClearEphemeral();
        return stored.WithPayloadPresent();
    }

    public bool Contains(MessageHash hash)
    {
        Span<byte> key = stackalloc byte[MessageHash.Length];
        hash.WriteTo(key);
        return _db.HasKey(key, _hashes);
    }

    public bool TryGet(MessageHash hash, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out StoredMessage message)
    {
        using var view = OpenView();
        message = null!;
        if (!view.TryLocate(hash, out var location)) return false;
        var value = view.GetMessageBytes(location);
        if (value is null) throw new StoreCorruptionException($"hash index points at a missing message {hash}");
        message = new StoredMessage(hash, _topics.PubsubName(location.PubsubId), ParseStored(value, hash));
        return true;
    }

    internal static WakuMessage ParseStored(ReadOnlySpan<byte> value, in MessageHash hash)
    {
        try { return WakuMessage.Parser.ParseFrom(value).WithPayloadPresent(); }
        catch (InvalidProtocolBufferException e) { throw new StoreCorruptionException($"stored message {hash} does not decode: {e.Message}"); }
    }

    /// <summary>Deletes the given messages from every index; unknown hashes are ignored. Returns how many were deleted.</summary>
    public int Delete(IReadOnlyCollection<MessageHash> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            var locations = new List<MessageLocation>();
            Span<byte> key = stackalloc byte[MessageHash.Length];
            foreach (var hash in hashes.Distinct())
            {
                hash.WriteTo(key);
                var value = _db.Get(key, _hashes);
                if (value is not null) locations.Add(StoreKeys.ReadHashValue(value, hash));
            }
            int deleted = 0;
            foreach (var chunk in locations.Chunk(DeleteChunk)) deleted += DeleteLocations(chunk);
            return deleted;
        }
    }

    /// <summary>Deletes every message of a pubsub topic (optionally one content topic) with from ≤ timestamp ≤ to.</summary>
    public long DeleteRange(string pubsubTopic, string? contentTopic, long fromTimestampInclusive, long toTimestampInclusive)
    {
        if (fromTimestampInclusive > toTimestampInclusive) return 0;
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            if (!_topics.TryGetPubsubId(pubsubTopic, out uint p)) return 0;
            uint? c = null;
            if (contentTopic is not null)
            {
                if (!_topics.TryGetContentId(contentTopic, out uint cid)) return 0;
                c = cid;
            }
            long deleted = 0;
            (long, MessageHash)? after = null;
            // Bounded memory: collect at most one chunk of locations, delete it, and continue strictly after it (not from the
            // start of the range again, which would step over the tombstones of every chunk before).
            while (true)
            {
                var chunk = new List<MessageLocation>(Math.Min(DeleteChunk, 1024));
                using (var view = OpenView())
                {
                    foreach (var location in view.Scan(p, c, fromTimestampInclusive, toTimestampInclusive, after))
                    {
                        chunk.Add(location);
                        if (chunk.Count == DeleteChunk) break;
                    }
                }
                if (chunk.Count == 0) return deleted;
                deleted += DeleteLocations(chunk);
                if (chunk.Count < DeleteChunk) return deleted;
                after = (chunk[^1].Timestamp, chunk[^1].Hash);
            }
        }
    }

    /// <summary>
    /// Deletes the given messages and lowers their counters in one batch; the caller holds the write lock. With
    /// <paramref name="sizes"/> (the stored value lengths, read under the same lock) no message is read again;
    /// <paramref name="stage"/> adds further entries to the same batch and <paramref name="committed"/> runs once it is
    /// written, before the observers are told.
    /// </summary>
    internal int DeleteLocations(IReadOnlyList<MessageLocation> locations, IReadOnlyList<int>? sizes = null, Action<WriteBatch>? stage = null, Action? committed = null)
    {
        if (sizes is not null && sizes.Count != locations.Count) throw new ArgumentException("one size per location", nameof(sizes));
        Span<byte> messageKey = stackalloc byte[StoreKeys.MessageKeyLength];
        Span<byte> timeKey = stackalloc byte[StoreKeys.TimeKeyLength];
        Span<byte> hashKey = stackalloc byte[MessageHash.Length];
        using var write = new WriteBatch();
        var deltas = new Dictionary<(uint, uint), TopicFigures>();
        var changes = new List<StoreChange>(locations.Count);
        for (int i = 0; i < locations.Count; i++)
        {
            var l = locations[i];
            StoreKeys.WriteMessageKey(messageKey, l.PubsubId, l.ContentId, l.Timestamp, l.Hash);
            int length;
            if (sizes is not null) length = sizes[i];
            else
            {
                var value = _db.Get(messageKey, _messages);
                if (value is null) continue;
                length = value.Length;
            }
            StoreKeys.WriteTimeKey(timeKey, l.PubsubId, l.Timestamp, l.Hash);
            l.Hash.WriteTo(hashKey);
            write.Delete(messageKey, _messages);
            write.Delete(timeKey, _time);
            write.Delete(hashKey, _hashes);
            deltas[(l.PubsubId, l.ContentId)] = deltas.GetValueOrDefault((l.PubsubId, l.ContentId)) + new TopicFigures(-1, -length);
            changes.Add(new StoreChange(_topics.PubsubName(l.PubsubId), _topics.ContentName(l.ContentId), l.Timestamp, l.Hash, length, l.PubsubId, l.ContentId));
        }
        if (changes.Count == 0) return 0;
        var figures = _counters.Stage(deltas, write, _meta);
        stage?.Invoke(write);
        _db.Write(write, _writeOptions);
        _counters.Apply(figures);
        _blobGarbage.AfterWrite(deleted: true);
        committed?.Invoke();
        Notify(changes, inserted: false);
        return changes.Count;
    }

    /// <summary>Tells every observer of a committed batch, under the write lock so that the order is the commit order.</summary>
    /// <remarks>
    /// The batch is already written: an observer that throws cannot undo it, and the writer must not be told its write failed
    /// (it would retry and count duplicates). The exception is logged with the observer's type, the other observers are still
    /// told, and the first exception is rethrown wrapped so that the fault is not hidden.
    /// </remarks>
    void Notify(IReadOnlyList<StoreChange> changes, bool inserted)
    {
        List<Exception>? failures = null;
        foreach (var observer in _observers)
        {
            try
            {
                if (inserted) observer.OnInserted(changes);
                else observer.OnDeleted(changes);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Store observer {Observer} failed on {Count} {Change} messages; the batch is committed", observer.GetType().Name, changes.Count, inserted ? "inserted" : "deleted");
                (failures ??= []).Add(e);
            }
        }
        if (failures is not null)
            throw new StoreObserverException($"{failures.Count} store observer(s) failed after the batch was committed (it is durable): {failures[0].Message}", new AggregateException(failures));
    }

    public StoreStatistics GetStatistics()
    {
        using var view = OpenView();
        var pubsubs = new List<PubsubTopicStatistics>();
        long messages = 0, bytes = 0;
        foreach (var group in _counters.Snapshot().Where(e => e.Figures.Messages > 0).GroupBy(e => e.Topic.Pubsub).OrderBy(g => _topics.PubsubName(g.Key), StringComparer.Ordinal))
        {
            var contents = group
                .Select(e => new ContentTopicStatistics(_topics.ContentName(e.Topic.Content), e.Figures.Messages, e.Figures.Bytes,
                    view.Edge(e.Topic.Pubsub, e.Topic.Content, first: true), view.Edge(e.Topic.Pubsub, e.Topic.Content, first: false)))
                .OrderBy(c => c.ContentTopic, StringComparer.Ordinal).ToList();
            long m = contents.Sum(c => c.Messages), b = contents.Sum(c => c.Bytes);
            pubsubs.Add(new PubsubTopicStatistics(_topics.PubsubName(group.Key), m, b,
                view.Edge(group.Key, null, first: true), view.Edge(group.Key, null, first: false), contents));
            messages += m;
            bytes += b;
        }
        return new StoreStatistics(messages, bytes, pubsubs);
    }

    /// <summary>RocksDB's own count of the memory it holds for this store (memtables, block cache, table readers).</summary>
    public StoreMemoryUsage GetMemoryUsage()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        long memtables = 0, readers = 0;
        foreach (var family in _families)
        {
            memtables += Property("rocksdb.size-all-mem-tables", family);
            readers += Property("rocksdb.estimate-table-readers-mem", family);
        }
        return new StoreMemoryUsage(memtables, Property("rocksdb.block-cache-usage", _messages), Property("rocksdb.block-cache-pinned-usage", _messages), readers);
    }

    /// <summary>RocksDB's flush and compaction work still running or owed: it competes with queries for the cores until it is done.</summary>
    public StoreBackgroundWork GetBackgroundWork()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        long pendingBytes = 0, flushing = 0;
        foreach (var family in _families)
        {
            pendingBytes += Property("rocksdb.estimate-pending-compaction-bytes", family);
            flushing += Property("rocksdb.mem-table-flush-pending", family);
        }
        long running = Property("rocksdb.num-running-compactions", _messages) + Property("rocksdb.num-running-flushes", _messages); // database-wide
        return new StoreBackgroundWork(running, flushing, pendingBytes);
    }

    /// <summary>The blob files holding message bodies, their garbage, and whether blob garbage collection runs (spec/storage.md).</summary>
    public BlobFileFigures GetBlobFiles()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        lock (_writeLock) return _blobGarbage.Figures();
    }

    /// <summary>Flushes and compacts every family whole, the bottom level included, then re-decides blob garbage collection (tests:
    /// makes deletes' garbage visible at once instead of when background compaction gets there).</summary>
    internal void CompactAll()
    {
        var options = Native.Instance.rocksdb_compactoptions_create();
        try
        {
            Native.Instance.rocksdb_compactoptions_set_bottommost_level_compaction(options, 2); // kForce: rewrite the bottom level too
            foreach (var family in _families)
                Native.Instance.rocksdb_compact_range_cf_opt(_db.Handle, family.Handle, options, IntPtr.Zero, UIntPtr.Zero, IntPtr.Zero, UIntPtr.Zero);
        }
        finally
        {
            Native.Instance.rocksdb_compactoptions_destroy(options);
        }
        lock (_writeLock) _blobGarbage.Check();
    }

    long Property(string name, ColumnFamilyHandle family) => long.TryParse(_db.GetProperty(name, family), out long value) ? value : 0;

    /// <summary>Figures of one (pubsub, content) pair, or of a whole pubsub topic when <paramref name="contentTopic"/> is null.</summary>
    public TopicFigures GetFigures(string pubsubTopic, string? contentTopic = null)
    {
        if (!_topics.TryGetPubsubId(pubsubTopic, out uint p)) return default;
        if (contentTopic is not null)
            return _topics.TryGetContentId(contentTopic, out uint c) ? _counters.Get(p, c) : default;
        var total = default(TopicFigures);
        foreach (var (topic, figures) in _counters.Snapshot())
            if (topic.Pubsub == p) total += figures;
        return total;
    }

    /// <summary>The retention horizon of a scope (the newest message evicted from it on purpose), or null if it has none.</summary>
    public RetentionHorizon? GetRetentionHorizon(string scopeId)
    {
        RetentionHorizons.CheckScopeId(scopeId);
        return _horizons.Get(scopeId);
    }

    /// <summary>Every persisted retention horizon by scope id (a copy).</summary>
    public IReadOnlyDictionary<string, RetentionHorizon> GetRetentionHorizons() => _horizons.Snapshot();

    /// <summary>
    /// Sets (or with null clears) a scope's retention horizon, durably, under the write lock. Eviction raises horizons itself;
    /// this is for backfill (which records where it stopped) and for clearing after a limit was raised.
    /// </summary>
    public void SetRetentionHorizon(string scopeId, RetentionHorizon? horizon)
    {
        RetentionHorizons.CheckScopeId(scopeId);
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            using var write = new WriteBatch();
            var staged = _horizons.Stage(new Dictionary<string, RetentionHorizon?> { [scopeId] = horizon }, write, _meta);
            _db.Write(write, _writeOptions);
            _horizons.Apply(staged);
        }
    }

    internal RetentionHorizons Horizons => _horizons;

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

    /// <summary>
    /// Walks the (timestamp, hash) index of <paramref name="pubsubTopic"/> from the bound (<paramref name="timestamp"/>,
    /// <paramref name="hash"/>): forward through entries ≥ the bound, backward through entries ≤ it; with
    /// <paramref name="inclusive"/> false the bound itself is skipped (so [a, b) ranges read forward from a, backward from b
    /// exclusive). An unknown pubsub topic is an empty walk. Dispose the reader: it holds a snapshot.
    /// </summary>
    public TimeIndexReader OpenTimeIndex(string pubsubTopic, long timestamp, MessageHash hash, bool forward, bool inclusive = true)
    {
        ArgumentNullException.ThrowIfNull(pubsubTopic);
        return _topics.TryGetPubsubId(pubsubTopic, out uint id)
            ? OpenTimeIndex(id, timestamp, hash, forward, inclusive)
            : new TimeIndexReader(null, 0, timestamp, hash, forward, inclusive);
    }

    /// <inheritdoc cref="OpenTimeIndex(string, long, MessageHash, bool, bool)"/>
    public TimeIndexReader OpenTimeIndex(uint pubsubId, long timestamp, MessageHash hash, bool forward, bool inclusive = true)
    {
        var view = OpenView();
        try { return new TimeIndexReader(view, pubsubId, timestamp, hash, forward, inclusive); }
        catch { view.Dispose(); throw; }
    }

    /// <summary>Makes the sync item reads of this thread share one snapshot and their iterators until disposed (one reconciliation frame).</summary>
    /// <exception cref="ObjectDisposedException">The store is closed (on the first read).</exception>
    public SharedReads ShareReads() => new(this);

    /// <summary>The messages of <paramref name="scope"/> as ordered sync items for the reconciler (and its fingerprint index).</summary>
    public StoreSyncItems SyncItems(StoreSync.Reconciliation.SyncScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return new StoreSyncItems(this, scope);
    }

    /// <summary>Every pubsub topic the store has ever held, with its id, in id order.</summary>
    public IReadOnlyList<(uint Id, string Topic)> PubsubTopics
    {
        get
        {
            var ids = _topics.PubsubIdsInOrder();
            var list = new List<(uint, string)>(ids.Length);
            foreach (uint id in ids) list.Add((id, _topics.PubsubName(id)));
            return list;
        }
    }

    public bool TryGetPubsubTopicId(string pubsubTopic, out uint id) => _topics.TryGetPubsubId(pubsubTopic, out id);
    public bool TryGetContentTopicId(string contentTopic, out uint id) => _topics.TryGetContentId(contentTopic, out id);

    /// <summary>The topic behind a store id (as in <see cref="StoreChange"/> and <see cref="TimeIndexEntry"/>).</summary>
    /// <exception cref="StoreCorruptionException">No such id: the caller holds an id from another store or the store is damaged.</exception>
    public string GetPubsubTopic(uint id) => _topics.PubsubName(id);

    /// <inheritdoc cref="GetPubsubTopic"/>
    public string GetContentTopic(uint id) => _topics.ContentName(id);

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
        }
    }

    /// <summary>How long <see cref="Dispose"/> waits for open readers before giving up.</summary>
    public static readonly TimeSpan DisposeWaitForReaders = TimeSpan.FromSeconds(30);
}
