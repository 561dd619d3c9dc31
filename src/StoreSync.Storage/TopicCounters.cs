using System.Buffers.Binary;
using RocksDbSharp;

namespace StoreSync.Storage;

/// <summary>Message count and bytes per (pubsub, content) topic pair, kept in memory and persisted in the same batch as each change.</summary>
/// <remarks>
/// Writes are serialised by the store, so a batch writes the absolute new values: no merge operator, no read-modify-write
/// race, and after a crash the persisted figures match the persisted messages exactly.
/// </remarks>
internal sealed class TopicCounters
{
    const byte Prefix = (byte)'n';
    readonly Dictionary<(uint Pubsub, uint Content), TopicFigures> _figures = [];
    readonly System.Collections.Concurrent.ConcurrentDictionary<(uint Pubsub, uint Content), bool> _known = new();
    readonly Lock _lock = new();

    public static TopicCounters Load(RocksDb db, ColumnFamilyHandle meta)
    {
        var counters = new TopicCounters();
        using var it = db.NewIterator(meta);
        for (it.Seek([Prefix]); it.Valid(); it.Next())
        {
            var key = it.GetKeySpan();
            if (key.Length == 0 || key[0] != Prefix) break;
            var value = it.GetValueSpan();
            if (key.Length != 9 || value.Length != 16) throw new StoreCorruptionException($"counter entry of {key.Length}/{value.Length} bytes, expected 9/16");
            var pair = (BinaryPrimitives.ReadUInt32BigEndian(key[1..]), BinaryPrimitives.ReadUInt32BigEndian(key[5..]));
            counters._figures[pair] = new TopicFigures(BinaryPrimitives.ReadInt64BigEndian(value), BinaryPrimitives.ReadInt64BigEndian(value[8..]));
            counters._known[pair] = true;
        }
        return counters;
    }

    public TopicFigures Get(uint pubsub, uint content)
    {
        lock (_lock) return _figures.GetValueOrDefault((pubsub, content));
    }

    /// <summary>
    /// Whether the (pubsub, content) pair ever held a message. Monotone, and set before the batch that first uses the pair is
    /// written, so a reader whose snapshot holds a message of the pair always sees the pair as known.
    /// </summary>
    public bool IsKnown(uint pubsub, uint content) => _known.ContainsKey((pubsub, content));

    public List<((uint Pubsub, uint Content) Topic, TopicFigures Figures)> Snapshot()
    {
        lock (_lock) return _figures.Select(kv => (kv.Key, kv.Value)).ToList();
    }

    /// <summary>Adds the new absolute figures for the changed pairs to <paramref name="batch"/>; returns them for <see cref="Apply"/>.</summary>
    public Dictionary<(uint, uint), TopicFigures> Stage(Dictionary<(uint Pubsub, uint Content), TopicFigures> deltas, WriteBatch batch, ColumnFamilyHandle meta)
    {
        var updated = new Dictionary<(uint, uint), TopicFigures>(deltas.Count);
        Span<byte> key = stackalloc byte[9];
        Span<byte> value = stackalloc byte[16];
        foreach (var ((p, c), delta) in deltas)
        {
            var now = Get(p, c) + delta;
            if (now.Messages < 0 || now.Bytes < 0) throw new StoreCorruptionException($"counters for topic ids {p}/{c} would become negative");
            key[0] = Prefix;
            BinaryPrimitives.WriteUInt32BigEndian(key[1..], p);
            BinaryPrimitives.WriteUInt32BigEndian(key[5..], c);
            BinaryPrimitives.WriteInt64BigEndian(value, now.Messages);
            BinaryPrimitives.WriteInt64BigEndian(value[8..], now.Bytes);
            batch.Put(key, value, meta);
            updated[(p, c)] = now;
            _known[(p, c)] = true;
        }
        return updated;
    }

    public void Apply(Dictionary<(uint, uint), TopicFigures> updated)
    {
        lock (_lock)
            foreach (var (topic, figures) in updated) _figures[topic] = figures;
    }
}

/// <summary>How many messages and bytes a topic holds.</summary>
public readonly record struct TopicFigures(long Messages, long Bytes)
{
    public static TopicFigures operator +(TopicFigures a, TopicFigures b) => new(a.Messages + b.Messages, a.Bytes + b.Bytes);
}
