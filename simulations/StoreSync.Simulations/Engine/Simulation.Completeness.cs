using StoreSync.Reconciliation;
using StoreSync.Simulations.Model;
using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations.Engine;

// Completeness: what each node should hold and does not.
internal sealed partial class Simulation
{
    /// <summary>Recoverable messages the node should hold (its communities, within its retention) and does not.</summary>
    long ComputeMissing(SimNode node)
    {
        var limits = node.Group.Limits;
        long from = limits.MaxAge > 0 ? AgeHorizon(node) : long.MinValue;
        if (limits.MaxMessages > 0)
        {
            long total = 0;
            foreach (int c in node.Communities) total += _catalog.RecoverableFrom(c, from);
            if (total > limits.MaxMessages)
            {
                // The target is the newest MaxMessages recoverable messages: the smallest cut-off leaving at most that many.
                // Nothing is older than the epoch, so the search starts there (and hi − lo cannot overflow).
                long lo = Math.Max(from, Scenario.Epoch), hi = Scenario.Epoch + _queue.Now + 1;
                while (lo < hi)
                {
                    long mid = lo + (hi - lo) / 2;
                    long n = 0;
                    foreach (int c in node.Communities) n += _catalog.RecoverableFrom(c, mid);
                    if (n <= limits.MaxMessages) hi = mid; else lo = mid + 1;
                }
                from = lo;
            }
        }
        long missing = 0;
        var bound = SyncItem.At(from);
        for (int s = 0; s < node.Communities.Length; s++)
        {
            var source = node.Store.Source(s);
            long held = from == long.MinValue ? source.Count : source.Count - source.Rank(bound);
            missing += Math.Max(0, _catalog.RecoverableFrom(node.Communities[s], from) - held);
        }
        return missing;
    }

    void UpdateCompleteness(SimNode node)
    {
        node.Missing = ComputeMissing(node);
        SetComplete(node, node.Missing == 0);
    }

    void SetComplete(SimNode node, bool complete)
    {
        if (node.Complete == complete) return;
        node.Complete = complete;
        _complete += complete ? 1 : -1;
    }

    void NoteConvergence(long publishEnd)
    {
        long since = _queue.Now - publishEnd;
        if (_timeTo99 is null && _complete >= _need99) _timeTo99 = since;
        if (_timeTo100 is null && _complete == _nodes.Length) _timeTo100 = since;
    }
}
