using StoreSync.Reconciliation;

namespace StoreSync.Simulations.Storage;

/// <summary>What one simulated node stores: one item source (with its fingerprint index) per community it keeps.</summary>
/// <remarks>Slots number the node's communities 0..n−1; the simulation maps community indexes to slots.</remarks>
internal interface INodeStore : IDisposable
{
    /// <summary>The reconciliation engine's view of a slot: counts, fingerprints and ordered reads.</summary>
    ISyncItemSource Source(int slot);

    /// <summary>Stores a message of the catalog; false if the node already had it.</summary>
    bool Add(int slot, int message);

    /// <summary>Stores several messages of one slot (a sync transfer); returns the catalog indexes that were new.</summary>
    /// <remarks>One at a time, as live messages arrive: each insert is judged (new or not) and counted on its own.</remarks>
    List<int> AddRange(int slot, IReadOnlyList<int> messages)
    {
        var added = new List<int>(messages.Count);
        foreach (int m in messages)
            if (Add(slot, m)) added.Add(m);
        return added;
    }

    /// <summary>Drops a message (retention).</summary>
    bool Remove(int slot, in SyncItem item);

    /// <summary>The oldest item of a slot, if any.</summary>
    bool TryOldest(int slot, out SyncItem item);
}
