using StoreSync.Simulations.Model;

namespace StoreSync.Simulations.Engine;

// Samples and the run's result.
internal sealed partial class Simulation
{
    void Sample()
    {
        long now = _queue.Now;
        int online = 0, onlineComplete = 0;
        long missingSum = 0, missingMax = 0, recon = 0, transfer = 0, sessions = 0, rounds = 0, delivered = 0;
        foreach (var node in _nodes)
        {
            EvictOld(node);
            UpdateCompleteness(node);
            if (node.Online) { online++; if (node.Complete) onlineComplete++; }
            missingSum += node.Missing;
            missingMax = Math.Max(missingMax, node.Missing);
            recon += node.ReconBytesSent;
            transfer += node.TransferBytesSent;
            sessions += node.Sessions;
            rounds += node.RoundTrips;
            delivered += node.ReceivedBySync;
        }
        // Each session is counted by both of its nodes.
        var row = new SampleRow(now, _published.Sum(), _catalog.Recoverable, _unrecoverable, online, _complete, onlineComplete, _nodes.Length,
            (double)missingSum / _nodes.Length, missingMax, recon, transfer, sessions / 2, rounds / 2, delivered);
        _series.Add(row);
        _sink?.Sample(row, _nodes, now);
        long next = now + _scenario.SampleEvery;
        if (now < _scenario.Duration) _queue.At(Math.Min(next, _scenario.Duration), EventKind.Sample, 0);
    }

    RunResult Result(double wallSeconds)
    {
        var (most, all, neverMost, neverAll) = _catalog.SpreadDelays();
        long total = most.Count + neverMost;
        long? P(List<long> sorted, long never, double q)
        {
            long n = sorted.Count + never;
            if (n == 0) return null;
            long rank = (long)Math.Ceiling(q * n) - 1;
            return rank < sorted.Count ? sorted[(int)Math.Max(0, rank)] : null;
        }
        var last = _series[^1];
        if (_online.Count == 0) _noneOnline += _scenario.Duration - _noneOnlineSince;
        double meanOnlineComplete = _series.Where(r => r.Online > 0).Select(r => r.OnlineCompleteFraction).DefaultIfEmpty(0).Average();
        return new RunResult
        {
            Name = _scenario.Name, Family = _scenario.Family, Nodes = _nodes.Length, Duration = _scenario.Duration, PublishEnd = _scenario.PublishEnd,
            Published = last.Published, Recoverable = last.Recoverable, Unrecoverable = last.Unrecoverable,
            ReceivedLive = _nodes.Sum(x => x.ReceivedLive), LostOnIngest = _nodes.Sum(x => x.LostOnIngest),
            DuplicateTransfers = _nodes.Sum(x => x.DuplicateTransfers),
            DeliveredBySync = last.DeliveredBySync, ReconBytes = last.ReconBytes, TransferBytes = last.TransferBytes,
            Sessions = last.Sessions, RoundTrips = last.RoundTrips, FailedExchanges = _nodes.Sum(x => x.FailedExchanges) / 2,
            SessionErrors = _sessionErrors, TimeTo99 = _timeTo99, TimeTo100 = _timeTo100,
            FinalCompleteFraction = last.CompleteFraction, MeanOnlineComplete = meanOnlineComplete,
            SpreadMostP50 = P(most, neverMost, 0.5), SpreadMostP95 = P(most, neverMost, 0.95),
            SpreadAllP50 = P(all, neverAll, 0.5), SpreadAllP95 = P(all, neverAll, 0.95),
            ReachedAllFraction = total == 0 ? 0 : (double)all.Count / (all.Count + neverAll),
            MeanOnlineFraction = _series.Select(r => r.OnlineFraction).Average(),
            NoneOnlineFraction = (double)_noneOnline / _scenario.Duration,
            Events = _queue.Processed, WallSeconds = wallSeconds, Series = _series,
        };
    }
}
