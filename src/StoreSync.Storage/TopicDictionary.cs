using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using RocksDbSharp;

namespace StoreSync.Storage;

/// <summary>Persisted mapping of topic strings to dense u32 ids, so keys stay fixed-width (one space for pubsub, one for content topics).</summary>
/// <remarks>Entries are written in the same WriteBatch as the first message that uses them; ids are never reused.</remarks>
internal sealed class TopicDictionary
{
    const byte PubsubByName = (byte)'P', PubsubById = (byte)'p', ContentByName = (byte)'C', ContentById = (byte)'c';

    readonly ConcurrentDictionary<string, uint> _pubsubIds = new(StringComparer.Ordinal), _contentIds = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<uint, string> _pubsubNames = new(), _contentNames = new();
    uint _nextPubsub = 1, _nextContent = 1;

    public static TopicDictionary Load(RocksDb db, ColumnFamilyHandle meta)
    {
        var dictionary = new TopicDictionary();
        using var it = db.NewIterator(meta);
        for (it.SeekToFirst(); it.Valid(); it.Next())
        {
            var key = it.GetKeySpan();
            if (key.Length != 5 || key[0] is not (PubsubById or ContentById)) continue;
            uint id = BinaryPrimitives.ReadUInt32BigEndian(key[1..]);
            string name = Encoding.UTF8.GetString(it.GetValueSpan());
            if (key[0] == PubsubById)
            {
                dictionary._pubsubIds[name] = id; dictionary._pubsubNames[id] = name;
                dictionary._nextPubsub = Math.Max(dictionary._nextPubsub, id + 1);
            }
            else
            {
                dictionary._contentIds[name] = id; dictionary._contentNames[id] = name;
                dictionary._nextContent = Math.Max(dictionary._nextContent, id + 1);
            }
        }
        return dictionary;
    }

    public bool TryGetPubsubId(string topic, out uint id) => _pubsubIds.TryGetValue(topic, out id);
    public bool TryGetContentId(string topic, out uint id) => _contentIds.TryGetValue(topic, out id);

    public string PubsubName(uint id) => _pubsubNames.TryGetValue(id, out var name) ? name : throw new StoreCorruptionException($"unknown pubsub topic id {id}");
    public string ContentName(uint id) => _contentNames.TryGetValue(id, out var name) ? name : throw new StoreCorruptionException($"unknown content topic id {id}");

    public bool TryGetPubsubName(uint id, out string name) => _pubsubNames.TryGetValue(id, out name!);
    public bool TryGetContentName(uint id, out string name) => _contentNames.TryGetValue(id, out name!);

    /// <summary>Every pubsub topic id, ascending (a fresh array: callers may hold it while topics are added).</summary>
    public uint[] PubsubIdsInOrder()
    {
        var ids = _pubsubNames.Keys.ToArray();
        Array.Sort(ids);
        return ids;
    }

    /// <summary>Starts collecting the new topics of one write batch; nothing is visible to readers until <see cref="TopicAdditions.Publish"/>.</summary>
    public TopicAdditions BeginAdditions(WriteBatch batch, ColumnFamilyHandle meta) => new(this, batch, meta);

    /// <summary>The new topics of one write batch. Used under the store's write lock.</summary>
    internal sealed class TopicAdditions(TopicDictionary owner, WriteBatch batch, ColumnFamilyHandle meta)
    {
        readonly Dictionary<string, uint> _pubsub = new(StringComparer.Ordinal), _content = new(StringComparer.Ordinal);

        public uint Pubsub(string topic) => Get(topic, owner._pubsubIds, _pubsub, owner._nextPubsub + (uint)_pubsub.Count, PubsubByName, PubsubById);

        public uint Content(string topic) => Get(topic, owner._contentIds, _content, owner._nextContent + (uint)_content.Count, ContentByName, ContentById);

        uint Get(string topic, ConcurrentDictionary<string, uint> committed, Dictionary<string, uint> pending, uint nextId, byte byName, byte byId)
        {
            if (committed.TryGetValue(topic, out uint id) || pending.TryGetValue(topic, out id)) return id;
            id = nextId;
            pending[topic] = id;
            var nameBytes = Encoding.UTF8.GetBytes(topic);
            var nameKey = new byte[nameBytes.Length + 1];
            nameKey[0] = byName;
            nameBytes.CopyTo(nameKey, 1);
            Span<byte> idKey = stackalloc byte[5];
            idKey[0] = byId;
            BinaryPrimitives.WriteUInt32BigEndian(idKey[1..], id);
            Span<byte> idValue = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(idValue, id);
            batch.Put(nameKey, idValue, meta);
            batch.Put(idKey, nameBytes, meta);
            return id;
        }

        /// <summary>
        /// Makes the batch's new topics visible before the batch is written, so that a reader whose snapshot already
        /// holds the batch can always name its ids. Until then nothing refers to the new ids, so early visibility is harmless.
        /// </summary>
        public void Publish()
        {
            foreach (var (name, id) in _pubsub) { owner._pubsubNames[id] = name; owner._pubsubIds[name] = id; }
            foreach (var (name, id) in _content) { owner._contentNames[id] = name; owner._contentIds[name] = id; }
            owner._nextPubsub += (uint)_pubsub.Count;
            owner._nextContent += (uint)_content.Count;
        }

        /// <summary>Withdraws what <see cref="Publish"/> made visible when the batch could not be written; ids are then free again.</summary>
        public void Rollback()
        {
            foreach (var (name, id) in _pubsub) { owner._pubsubIds.TryRemove(name, out _); owner._pubsubNames.TryRemove(id, out _); }
            foreach (var (name, id) in _content) { owner._contentIds.TryRemove(name, out _); owner._contentNames.TryRemove(id, out _); }
            owner._nextPubsub -= (uint)_pubsub.Count;
            owner._nextContent -= (uint)_content.Count;
        }
    }
}
