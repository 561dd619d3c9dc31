using StoreSync.Reconciliation;
using StoreSync.Simulations.Model;
using StoreSync.Simulations.Scenarios;
using StoreSync.Storage.Retention;

namespace StoreSync.Simulations.Engine;

// Retention: the nodes' age and count limits, and where their syncs start (the node's rule, SyncHorizon).
internal sealed partial class Simulation
{
    long AgeHorizon(SimNode node) =>
        node.Group.Limits.MaxAge > 0 ? Scenario.Epoch + _queue.Now - node.Group.Limits.MaxAge : long.MinValue;

    /// <summary>Where a sync of one of the node's communities starts: just above the newest item evicted from it on purpose,
    /// as a store node's <see cref="SyncHorizon"/> answers it for one retention scope.</summary>
    static long SyncStart(SimNode node, int slot) => SyncHorizon.StartAbove(node.Horizons[slot]);

    /// <summary>A pushed item the node evicted on purpose is not stored again (the node's per-message check).</summary>
    static bool IsEvicted(SimNode node, int slot, in SyncItem item) => SyncHorizon.IsEvicted(node.Horizons[slot], item.Timestamp, item.Hash);

    bool TryOldest(SimNode node, out SyncItem oldest, out int slot)
    {
        oldest = SyncItem.MaxValue;
        slot = -1;
        for (int s = 0; s < node.Communities.Length; s++)
            if (node.Store.TryOldest(s, out var item) && item < oldest) { oldest = item; slot = s; }
        return slot >= 0;
    }

    void EvictOld(SimNode node)
    {
        if (node.Group.Limits.MaxAge == 0) return;
        long horizon = AgeHorizon(node);
        for (int s = 0; s < node.Communities.Length; s++)
            while (node.Store.TryOldest(s, out var item) && item.Timestamp < horizon) Evict(node, s, item);
    }

    void EnforceCount(SimNode node)
    {
        long max = node.Group.Limits.MaxMessages;
        if (max == 0) return;
        while (node.Held > max && TryOldest(node, out var oldest, out int slot)) Evict(node, slot, oldest);
    }

    void Evict(SimNode node, int slot, in SyncItem item)
    {
        if (!node.Store.Remove(slot, item)) throw new InvalidOperationException("evicting an item the store does not hold");
        _catalog.Lost(_catalog.IndexOf(item));
        node.Held--;
        node.Evicted++;
        // As the evictor records it: the newest victim of the scope, unless its horizon is already higher.
        if (!SyncHorizon.IsEvicted(node.Horizons[slot], item.Timestamp, item.Hash))
            node.Horizons[slot] = new RetentionHorizon(item.Timestamp, item.Hash, RetentionLimits.None);
    }
}
