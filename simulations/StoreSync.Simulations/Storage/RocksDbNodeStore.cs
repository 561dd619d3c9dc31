using StoreSync.Reconciliation;
using StoreSync.Simulations.Model;
using StoreSync.Storage;
using StoreSync.Storage.Sync;

namespace StoreSync.Simulations.Storage;

/// <summary>Node storage in a real RocksDB <see cref="MessageStore"/> in a temporary folder, deleted on dispose.</summary>
/// <remarks>
/// Messages are regenerated from the catalog (same bytes, so the store recomputes the same hash) and ingested as a
/// node would; the engine reads the node's own live <see cref="SyncIndex"/> of each community's scope, which the store keeps
/// in step with every committed insert and delete (the same code a node answers sessions with).
/// </remarks>
internal sealed class RocksDbNodeStore : INodeStore
{
    static readonly MessageStoreOptions Options = new() { SyncWrites = false, BlockCacheBytes = 8L << 20, WriteBufferBytes = 8UL << 20 };

    readonly MessageCatalog _catalog;
    readonly MessageStore _store;
    readonly string _folder;
    readonly string[] _pubsub;
    readonly SyncIndex[] _indexes;
    readonly SyncItem[] _one = new SyncItem[1];

    public RocksDbNodeStore(MessageCatalog catalog, IReadOnlyList<int> communities, string folder)
    {
        _catalog = catalog;
        _folder = folder;
        _store = MessageStore.Open(folder, Options);
        _pubsub = new string[communities.Count];
        _indexes = new SyncIndex[communities.Count];
        for (int i = 0; i < communities.Count; i++)
        {
            var c = catalog.Scenario.Communities[communities[i]];
            _pubsub[i] = c.PubsubTopic;
            _indexes[i] = SyncIndex.Create(_store, c.PubsubTopic, [c.ContentTopic]);
        }
    }

    public ISyncItemSource Source(int slot) => _indexes[slot];

    public bool Add(int slot, int message)
    {
        var result = _store.Ingest([new IngestItem(_pubsub[slot], _catalog.BuildMessage(message))]);
        if (result.Inserted == 0) return false;
        if (_catalog.IndexOf(result.InsertedHashes[0]) != message) throw new InvalidOperationException("the store computed another hash than the catalog");
        return true;
    }

    public bool Remove(int slot, in SyncItem item) => _store.Delete([item.Hash]) > 0;

    public bool TryOldest(int slot, out SyncItem item)
    {
        int n = _indexes[slot].Read(SyncItem.MinValue, SyncItem.MaxValue, _one);
        item = _one[0];
        return n == 1;
    }

    public void Dispose()
    {
        _store.Dispose();
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { } // a leftover temp folder is harmless; the run's result is what matters
    }
}
