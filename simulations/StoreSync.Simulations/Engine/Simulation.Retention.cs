using StoreSync.Reconciliation;
using StoreSync.Simulations.Model;
using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations.Engine;

// Retention: the nodes' age and count limits.
internal sealed partial class Simulation
{
    long AgeHorizon(SimNode node) =>
        node.Group.Limits.MaxAge > 0 ? Scenario.Epoch + _queue.Now - node.Group.Limits.MaxAge : long.MinValue;

    /// <summary>The oldest timestamp the node keeps on purpose: its age cut-off, or its oldest item once its count limit is reached.</summary>
    long SyncHorizon(SimNode node)
    {
        long horizon = AgeHorizon(node);
        if (node.Group.Limits.MaxMessages > 0 && node.Held >= node.Group.Limits.MaxMessages && TryOldest(node, out var oldest, out _))
            horizon = Math.Max(horizon, oldest.Timestamp);
        return horizon;
    }

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
    }
}
