using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations.Engine;

// Publishing: each community's arrivals and who stores a message live.
internal sealed partial class Simulation
{
    void ScheduleNextPublish(int c, long after)
    {
        var community = _scenario.Communities[c];
        var rng = _publishers[c];
        long k = _published[c];
        long span = community.Stop - community.Start;
        long next;
        if (community.MessageCount is long total)
        {
            if (k >= total) return;
            if (community.Arrival == Arrival.Uniform) next = community.Start + (long)((double)span * k / total);
            else
            {
                // The k-th of `total` sorted uniform points, drawn in order: U(k) = 1 − (1 − U(k−1))·V^(1/(total−k)).
                _orderStatistic[c] = 1 - (1 - _orderStatistic[c]) * Math.Pow(rng.NextDouble(), 1.0 / (total - k));
                next = community.Start + (long)(span * _orderStatistic[c]);
            }
        }
        else if (community.Rate <= 0) return;
        else if (community.Arrival == Arrival.Uniform) next = community.Start + (long)(k * 1e9 / community.Rate);
        else next = after + (long)rng.Exponential(1e9 / community.Rate);
        if (next >= community.Stop && community.MessageCount is null) return;
        _queue.At(Math.Max(next, _queue.Now), EventKind.Publish, c);
    }

    void Publish(int c)
    {
        long now = _queue.Now;
        int m = _catalog.Publish(c, now, _publishers[c]);
        _published[c]++;
        var storing = _storing[c];
        int receivers = 0;
        foreach (int id in storing)
        {
            var node = _nodes[id];
            _scratchReceived[id] = false;
            if (!node.Online) continue;
            if (node.Loss.Chance(node.Group.IngestLoss)) { node.LostOnIngest++; continue; }
            if (!node.Store.Add(node.SlotOf[c], m)) continue;
            node.ReceivedLive++;
            node.Held++;
            _catalog.Gained(m, now);
            _scratchReceived[id] = true;
            receivers++;
        }
        if (_plan is not null) _plan.Published(now, m, storing.Where(id => _scratchReceived[id]).ToArray());
        if (receivers == 0) _unrecoverable++;
        else _catalog.MarkRecoverable(m);
        foreach (int id in storing)
        {
            var node = _nodes[id];
            if (!node.Group.Limits.IsNone)
            {
                if (_scratchReceived[id]) EnforceCount(node);
                UpdateCompleteness(node);
            }
            else if (receivers > 0 && !_scratchReceived[id])
            {
                // Without retention a node's target grew by one message it lacks; a receiver's did and it has it.
                node.Missing++;
                SetComplete(node, false);
            }
        }
        ScheduleNextPublish(c, now);
    }
}
