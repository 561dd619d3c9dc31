using StoreSync.Reconciliation;

namespace StoreSync.Storage;

/// <summary>The stored messages of one sync scope as ordered sync items, read straight from the (pubsub, timestamp, hash) index.</summary>
/// <remarks>
/// Each <see cref="Read"/> opens one snapshot (or uses the thread's <see cref="SharedReads"/>) and merges the index of every pubsub topic in scope in (timestamp, hash) order,
/// keeping the entries whose content topic is in scope (the content id is the index value, so no message is read). Topic
/// names are resolved on every read, so topics first stored after this object was made are included.
/// </remarks>
public sealed class StoreSyncItems : IOrderedSyncItems
{
    readonly MessageStore _store;
    Resolved? _resolved; // a reference, so that threads never see half of it

    sealed record Resolved(uint[] Pubsubs, HashSet<uint>? Contents);

    internal StoreSyncItems(MessageStore store, SyncScope scope)
    {
        _store = store;
        Scope = scope;
    }

    public SyncScope Scope { get; }

    public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination)
    {
        if (destination.IsEmpty || from >= to) return 0;
        var shared = SharedReads.Current(_store);
        var view = shared?.View ?? _store.OpenView();
        try
        {
            var (pubsubs, contents) = Resolve(view.Topics);
            if (pubsubs.Length == 0 || contents is { Count: 0 }) return 0;
            if (pubsubs.Length == 1) return ReadOne(shared, view, pubsubs[0], contents, from, to, destination);

            var sources = new List<IndexCursor>(pubsubs.Length);
            try
            {
                var heap = new PriorityQueue<IndexCursor, SyncItem>(pubsubs.Length);
                foreach (uint p in pubsubs)
                {
                    var source = shared?.Cursor(p) ?? IndexCursor.ForPubsub(view, p, forward: true);
                    if (shared is null) sources.Add(source);
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
        finally
        {
            if (shared is null) view.Dispose();
        }
    }

    // One pubsub topic (every live sync index): no merge.
    static int ReadOne(SharedReads? shared, StoreView view, uint pubsub, HashSet<uint>? contents, in SyncItem from, in SyncItem to, Span<SyncItem> destination)
    {
        var source = shared?.Cursor(pubsub) ?? IndexCursor.ForPubsub(view, pubsub, forward: true);
        try
        {
            source.Start(from.Timestamp, to.Timestamp, (from.Timestamp, from.Hash), includeCursor: true);
            int count = 0;
            for (; count < destination.Length && source.Valid; source.Advance())
            {
                if (contents is not null && !contents.Contains(source.Current.ContentId)) continue;
                var item = new SyncItem(source.Current.Timestamp, source.Current.Hash);
                if (item >= to) break;
                destination[count++] = item;
            }
            return count;
        }
        finally
        {
            if (shared is null) source.Dispose();
        }
    }

    // Topic ids never change once assigned, so a scope whose every topic is known resolves once; one naming a topic the store
    // has not seen yet (or every pubsub topic) is resolved again on each read, so topics stored later are included.
    (uint[] Pubsubs, HashSet<uint>? Contents) Resolve(TopicDictionary topics)
    {
        if (Volatile.Read(ref _resolved) is { } done) return (done.Pubsubs, done.Contents);
        bool complete = Scope.PubsubTopics.Count > 0;
        uint[] pubsubs;
        if (Scope.PubsubTopics.Count == 0) pubsubs = topics.PubsubIdsInOrder();
        else
        {
            int known = 0;
            pubsubs = new uint[Scope.PubsubTopics.Count];
            foreach (var name in Scope.PubsubTopics)
                if (topics.TryGetPubsubId(name, out uint id)) { if (Array.IndexOf(pubsubs, id, 0, known) < 0) pubsubs[known++] = id; }
                else complete = false;
            Array.Resize(ref pubsubs, known);
        }
        HashSet<uint>? contents = null;
        if (Scope.ContentTopics.Count > 0)
        {
            contents = new HashSet<uint>(Scope.ContentTopics.Count);
            foreach (var name in Scope.ContentTopics)
                if (topics.TryGetContentId(name, out uint id)) contents.Add(id);
                else complete = false;
        }
        if (complete) Volatile.Write(ref _resolved, new Resolved(pubsubs, contents));
        return (pubsubs, contents);
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
