using StoreSync.Simulations.Model;
using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations.Engine;

// The online schedule: who comes and goes when (spec/simulation.md, "Online schedule").
internal sealed partial class Simulation
{
    void StartSchedule(SimNode node)
    {
        var g = node.Group;
        if (g.OnlineFraction >= 1)
        {
            SetOnline(node);
            return;
        }
        bool online = node.Schedule.NextDouble() < g.OnlineFraction;
        double mean = online ? g.SessionLength : g.OfflineLength;
        // Exponential lengths are memoryless, so the residual of the session in progress at t = 0 is a fresh draw;
        // fixed lengths are entered at a uniform point.
        double residual = g.SessionDistribution == SessionDistribution.Fixed ? mean * node.Schedule.NextDouble() : SessionLength(node, mean);
        if (online) SetOnline(node);
        _queue.At(Math.Max(1, (long)residual), EventKind.Toggle, node.Id);
    }

    static double SessionLength(SimNode node, double mean) =>
        node.Group.SessionDistribution == SessionDistribution.Fixed ? mean : node.Schedule.Exponential(mean);

    void Toggle(SimNode node)
    {
        long now = _queue.Now;
        if (node.Online)
        {
            node.GoOffline(now);
            _plan?.Toggled(now, node.Id, false);
            _online.Remove(node.Id);
            if (_online.Count == 0) _noneOnlineSince = _queue.Now;
            _queue.At(now + Math.Max(1, (long)SessionLength(node, node.Group.OfflineLength)), EventKind.Toggle, node.Id);
        }
        else
        {
            SetOnline(node);
            _queue.At(now + Math.Max(1, (long)SessionLength(node, node.Group.SessionLength)), EventKind.Toggle, node.Id);
        }
    }

    void SetOnline(SimNode node)
    {
        node.GoOnline(_queue.Now);
        _plan?.Toggled(_queue.Now, node.Id, true);
        if (_online.Count == 0) _noneOnline += _queue.Now - _noneOnlineSince;
        _online.Add(node.Id);
        var sync = node.Group.Sync;
        if (sync.Peers > 0)
            _queue.At(_queue.Now + (long)(sync.StartDelay * node.PeerChoice.NextDouble()), EventKind.SyncTick, node.Id, node.Epoch);
    }
}
