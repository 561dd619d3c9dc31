// MessageStore's writes (ingest filters, ingest, the stored form); partial: they share the store's private families, lock and counters.
using System.Buffers.Binary;
using RocksDbSharp;
using StoreSync.Core;
using StoreSync.Core.Proto;

namespace StoreSync.Storage;

public sealed partial class MessageStore
{
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
            try { return WriteLocked(batch, prepared); }
            finally { ReleaseIngestBatch(prepared.Bytes); }
        }
    }

    IngestResult WriteLocked(IReadOnlyList<IngestItem> batch, PreparedBatch prepared)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        var write = IngestBatch();
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
            _observers.Notify(changes, inserted: true);
        }
        return new IngestResult(inserted.Count, duplicates, inserted) { Refused = refused };
    }

    /// <summary>Largest write batch kept for the next ingest; a larger one (an import's big batch) is freed after use.</summary>
    const long KeptIngestBatchBytes = 8L << 20;

    // One RocksDB write batch reused by every ingest (under the write lock): its buffer keeps its capacity across Clear, so a
    // batch of 1,000 messages no longer maps, faults in and unmaps a fresh 1.2 MB buffer (above glibc's mmap threshold, see
    // MallocSettings) every time.
    WriteBatch _ingestBatch = new();

    WriteBatch IngestBatch()
    {
        _ingestBatch.Clear();
        return _ingestBatch;
    }

    // After a large batch: give its buffer back rather than keep megabytes for the next small one.
    void ReleaseIngestBatch(long valueBytes)
    {
        if (valueBytes <= KeptIngestBatchBytes || _disposed) return;
        _ingestBatch.Dispose();
        _ingestBatch = new WriteBatch();
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
}
