using StoreSync.Core;
using StoreSync.Reconciliation;

namespace StoreSync.Storage;

/// <summary>The stored messages of one sync scope as ordered sync items, read straight from the (pubsub, timestamp, hash) index.</summary>
/// <remarks>
/// Each <see cref="Read"/> opens one snapshot and merges the index of every pubsub topic in scope in (timestamp, hash) order,
/// keeping the entries whose content topic is in scope (the content id is the index value, so no message is read). Topic
/// names are resolved on every read, so topics first stored after this object was made are included.
/// </remarks>
public sealed class StoreSyncItems : IOrderedSyncItems
{
    readonly MessageStore _store;

    internal StoreSyncItems(MessageStore store, SyncScope scope)
    {
        _store = store;
        Scope = scope;
    }

    public SyncScope Scope { get; }

    public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination)
    {
        if (destination.IsEmpty || from >= to) return 0;
        using var view = _store.OpenView();
        var topics = view.Topics;

        uint[] pubsubs;
        if (Scope.PubsubTopics.Count == 0) pubsubs = topics.PubsubIdsInOrder();
        else
        {
            int known = 0;
            pubsubs = new uint[Scope.PubsubTopics.Count];
            foreach (var name in Scope.PubsubTopics)
                if (topics.TryGetPubsubId(name, out uint id) && Array.IndexOf(pubsubs, id, 0, known) < 0) pubsubs[known++] = id;
            Array.Resize(ref pubsubs, known);
        }
        HashSet<uint>? contents = null;
        if (Scope.ContentTopics.Count > 0)
        {
            contents = new HashSet<uint>(Scope.ContentTopics.Count);
            foreach (var name in Scope.ContentTopics)
                if (topics.TryGetContentId(name, out uint id)) contents.Add(id);
            if (contents.Count == 0) return 0;
        }
        if (pubsubs.Length == 0) return 0;

        var sources = new List<IndexCursor>(pubsubs.Length);
        try
        {
            var heap = new PriorityQueue<IndexCursor, SyncItem>(pubsubs.Length);
            foreach (uint p in pubsubs)
            {
                var source = IndexCursor.ForPubsub(view, p, forward: true);
                sources.Add(source);
                // Timestamps inclusive at both ends here; the exact [from, to) bounds on (timestamp, hash) are applied below.
                source.Start(from.Timestamp, to.Timestamp, (from.Timestamp, from.Hash), includeCursor: true);
                Offer(heap, source, to, contents);
            }
            int count = 0;
            while (count < destination.Length && heap.TryDequeue(out var source, out var item))
            {
                destination[count++] = item;
                source.Advance();
                Offer(heap, source, to, contents);
            }
            return count;
        }
        finally
        {
            foreach (var source in sources) source.Dispose();
        }
    }

    /// <summary>Moves the source to its next in-scope entry below <paramref name="to"/> and queues it; a spent source is dropped.</summary>
    static void Offer(PriorityQueue<IndexCursor, SyncItem> heap, IndexCursor source, in SyncItem to, HashSet<uint>? contents)
    {
        while (source.Valid && contents is not null && !contents.Contains(source.Current.ContentId)) source.Advance();
        if (!source.Valid) return;
        var item = new SyncItem(source.Current.Timestamp, source.Current.Hash);
        if (item < to) heap.Enqueue(source, item);
    }
}
