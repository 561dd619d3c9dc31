// MessageStore's deletes (by hash, by range, by location for eviction; forced compaction); partial: they share the write lock and families.
using RocksDbSharp;
using StoreSync.Core;

namespace StoreSync.Storage;

public sealed partial class MessageStore
{
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
        _observers.Notify(changes, inserted: false);
        return changes.Count;
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
}
