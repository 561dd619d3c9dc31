// MessageStore's reads (by hash, time-index readers, sync items, topic ids); partial: they open views on the store's private database.
using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;

namespace StoreSync.Storage;

public sealed partial class MessageStore
{
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

    /// <summary>Reads messages by hash as they are stored (the WakuMessage bytes of their stored form, never parsed), with their
    /// topics, all from one snapshot. An entry is null for a hash no longer stored.</summary>
    /// <remarks>A copy of each message; a transfer frames them straight from <see cref="ReadStoredBytes"/> instead.</remarks>
    public StoredBytes?[] GetStoredBytes(ReadOnlySpan<MessageHash> hashes)
    {
        var found = new StoredBytes?[hashes.Length];
        using var reader = ReadStoredBytes();
        for (int i = 0; i < hashes.Length; i++)
            if (reader.TryRead(hashes[i]))
                found[i] = new StoredBytes(hashes[i], reader.PubsubTopic, reader.ContentTopic, reader.Timestamp, reader.Message.ToArray());
        return found;
    }

    /// <summary>A reader of messages by hash as they are stored, from one snapshot, without copying them (what a sync transfer
    /// frames); newest first it walks the messages family. Dispose it: it holds a snapshot.</summary>
    /// <exception cref="ObjectDisposedException">The store is closed.</exception>
    public StoredBytesReader ReadStoredBytes() => new(OpenView());

    internal static WakuMessage ParseStored(ReadOnlySpan<byte> value, in MessageHash hash)
    {
        try { return WakuMessage.Parser.ParseFrom(value).WithPayloadPresent(); }
        catch (InvalidProtocolBufferException e) { throw new StoreCorruptionException($"stored message {hash} does not decode: {e.Message}"); }
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
}
