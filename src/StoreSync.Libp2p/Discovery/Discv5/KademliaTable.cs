using StoreSync.Libp2p.Discovery.Enr;

namespace StoreSync.Libp2p.Discovery.Discv5;

/// <summary>
/// The routing table of discv5-theory.md: 256 k-buckets by log-distance from the local id, each holding at most 16 nodes
/// ordered from least to most recently seen, with a replacement cache of 16 for when a member fails its liveness check.
/// </summary>
/// <remarks>Thread-safe: one lock, held only for list operations (a full scan is 4,096 entries at most).</remarks>
public sealed class KademliaTable(NodeId localId)
{
    readonly List<Entry>[] _buckets = Enumerable.Range(0, Discv5Limits.BucketCount).Select(_ => new List<Entry>()).ToArray();
    readonly List<EnrRecord>[] _replacements = Enumerable.Range(0, Discv5Limits.BucketCount).Select(_ => new List<EnrRecord>()).ToArray();
    readonly Lock _gate = new();

    sealed class Entry(EnrRecord record)
    {
        public EnrRecord Record = record;
        public bool Verified;
    }

    /// <summary>What <see cref="Add"/> did with a record.</summary>
    public enum AddResult
    {
        /// <summary>The local node, or a record older than the one held.</summary>
        Ignored,
        Added,
        Updated,
        /// <summary>Its bucket is full: kept in the replacement cache; the bucket's least recently seen node should be checked.</summary>
        BucketFull,
    }

    public NodeId LocalId => localId;

    public int Count
    {
        get { lock (_gate) return _buckets.Sum(b => b.Count); }
    }

    /// <summary>
    /// Adds or refreshes a record. <paramref name="seenAlive"/> (it answered us, or completed a handshake from the address
    /// it advertises) moves it to the bucket's most recently seen end.
    /// </summary>
    public AddResult Add(EnrRecord record, bool seenAlive)
    {
        int distance = NodeId.LogDistance(localId, record.NodeId);
        if (distance == 0) return AddResult.Ignored;
        lock (_gate)
        {
            var bucket = _buckets[distance - 1];
            int i = bucket.FindIndex(e => e.Record.NodeId == record.NodeId);
            if (i >= 0)
            {
                var entry = bucket[i];
                if (record.Seq < entry.Record.Seq) return AddResult.Ignored;
                entry.Record = record;
                if (seenAlive)
                {
                    entry.Verified = true;
                    bucket.RemoveAt(i);
                    bucket.Add(entry);
                }
                return AddResult.Updated;
            }
            if (bucket.Count < Discv5Limits.BucketSize)
            {
                bucket.Add(new Entry(record) { Verified = seenAlive });
                return AddResult.Added;
            }
            var cache = _replacements[distance - 1];
            cache.RemoveAll(r => r.NodeId == record.NodeId);
            if (cache.Count >= Discv5Limits.ReplacementCacheSize) cache.RemoveAt(0);
            cache.Add(record);
            return AddResult.BucketFull;
        }
    }

    /// <summary>Drops a node that failed its liveness check; the most recent replacement takes its place.</summary>
    public void Remove(NodeId id)
    {
        int distance = NodeId.LogDistance(localId, id);
        if (distance == 0) return;
        lock (_gate)
        {
            var bucket = _buckets[distance - 1];
            if (bucket.RemoveAll(e => e.Record.NodeId == id) == 0) return;
            var cache = _replacements[distance - 1];
            if (cache.Count > 0)
            {
                bucket.Add(new Entry(cache[^1]));
                cache.RemoveAt(cache.Count - 1);
            }
        }
    }

    public EnrRecord? Get(NodeId id)
    {
        int distance = NodeId.LogDistance(localId, id);
        if (distance == 0) return null;
        lock (_gate) return _buckets[distance - 1].Find(e => e.Record.NodeId == id)?.Record;
    }

    /// <summary>The nodes at log-distance <paramref name="distance"/> (1…256) from the local id.</summary>
    public List<EnrRecord> AtDistance(int distance)
    {
        if (distance < 1 || distance > Discv5Limits.BucketCount) return [];
        lock (_gate) return _buckets[distance - 1].Select(e => e.Record).ToList();
    }

    /// <summary>The <paramref name="count"/> nodes closest to <paramref name="target"/> by XOR distance.</summary>
    public List<EnrRecord> Closest(NodeId target, int count)
    {
        lock (_gate)
        {
            return _buckets.SelectMany(b => b).Select(e => e.Record)
                .OrderBy(r => NodeId.Xor(r.NodeId, target)).Take(count).ToList();
        }
    }

    public List<EnrRecord> All()
    {
        lock (_gate) return _buckets.SelectMany(b => b).Select(e => e.Record).ToList();
    }

    /// <summary>The nodes that have answered us (or handshaken from the address they advertise) and not failed a
    /// liveness check since; a node named only in another's NODES answer is not among them until it answers.</summary>
    public List<EnrRecord> Live()
    {
        lock (_gate) return _buckets.SelectMany(b => b).Where(e => e.Verified).Select(e => e.Record).ToList();
    }

    /// <summary>The least recently seen node of a random non-empty bucket: the next one whose liveness to check.</summary>
    public EnrRecord? NextToRevalidate()
    {
        lock (_gate)
        {
            var nonEmpty = _buckets.Where(b => b.Count > 0).ToList();
            return nonEmpty.Count == 0 ? null : nonEmpty[Random.Shared.Next(nonEmpty.Count)][0].Record;
        }
    }

    /// <summary>The least recently seen node of the bucket <paramref name="record"/> would go in.</summary>
    public EnrRecord? LeastRecentlySeen(EnrRecord record)
    {
        int distance = NodeId.LogDistance(localId, record.NodeId);
        if (distance == 0) return null;
        lock (_gate) return _buckets[distance - 1].Count > 0 ? _buckets[distance - 1][0].Record : null;
    }
}
