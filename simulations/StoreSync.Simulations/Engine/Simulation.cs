using System.Diagnostics;
using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;
using StoreSync.Reconciliation.Nwaku;
using StoreSync.Simulations.Model;
using StoreSync.Simulations.Scenarios;
using StoreSync.Simulations.Storage;

namespace StoreSync.Simulations.Engine;

/// <summary>Receives every sample of a run (the CSV writers; tests keep them in memory).</summary>
internal interface ISampleSink
{
    void Sample(SampleRow row, IReadOnlyList<SimNode> nodes, long now);
}

/// <summary>One run of a scenario on virtual time: nodes come and go, communities publish, online nodes sync with the real engine.</summary>
/// <remarks>
/// Message arrival: a published message is stored at once by every online node that keeps its community, except
/// where the node's ingest loss drops it; offline nodes miss it and can only get it by sync. A sync round picks
/// random online peers and runs, per shared community, a real <see cref="NativeReconciliation"/> or
/// <see cref="NwakuReconciliation"/> session over the nodes' item sources; frame sizes, latency and bandwidth give
/// its virtual duration, and the pushed messages arrive after the transfer time — unless a side went offline first.
/// Everything is single-threaded and ordered by the event queue, so a run is a function of the scenario and seed.
/// </remarks>
internal sealed class Simulation : IDisposable
{
    const int ProgressEvery = 4096;

    readonly Scenario _scenario;
    readonly EventQueue _queue = new();
    readonly MessageCatalog _catalog;
    readonly SimNode[] _nodes;
    readonly int[][] _storing; // per community: nodes that keep it
    readonly SimRandom[] _publishers;
    readonly long[] _published; // per community: messages so far
    readonly double[] _orderStatistic; // per community: last uniform order statistic (count-based Poisson arrival)
    readonly OnlineSet _online;
    readonly bool[] _scratchReceived;
    readonly ISampleSink? _sink;
    readonly Action<long, long, long>? _progress;
    readonly List<SampleRow> _series = [];
    readonly string? _storageRoot;
    readonly int[] _peerScratch;
    int _complete;
    long _unrecoverable, _sessionErrors;
    long? _timeTo99, _timeTo100;
    readonly int _need99;

    public Simulation(Scenario scenario, ISampleSink? sink = null, Action<long, long, long>? progress = null, string? storageRoot = null)
    {
        _scenario = scenario;
        _sink = sink;
        _progress = progress;
        int n = scenario.NodeCount;
        _nodes = new SimNode[n];
        int id = 0;
        for (int g = 0; g < scenario.Groups.Count; g++)
            for (int k = 0; k < scenario.Groups[g].Count; k++, id++)
                _nodes[id] = new SimNode(id, g, scenario.Groups[g], scenario.Seed, scenario.Communities.Count);
        _storing = scenario.Communities.Select((_, c) => _nodes.Where(x => x.SlotOf[c] >= 0).Select(x => x.Id).ToArray()).ToArray();
        _catalog = new MessageCatalog(scenario, _storing.Select(s => s.Length).ToList());
        if (scenario.Storage == StorageKind.RocksDb)
        {
            _storageRoot = Path.Combine(storageRoot ?? Path.GetTempPath(), $"storesync-sim-{scenario.Name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(_storageRoot);
        }
        foreach (var node in _nodes)
            node.Store = scenario.Storage == StorageKind.RocksDb
                ? new RocksDbNodeStore(_catalog, node.Communities, Path.Combine(_storageRoot!, $"node{node.Id}"))
                : new MemoryNodeStore(_catalog, node.Communities.Length);
        _publishers = scenario.Communities.Select((_, c) => new SimRandom(scenario.Seed, (1UL << 40) + (ulong)c)).ToArray();
        _published = new long[scenario.Communities.Count];
        _orderStatistic = new double[scenario.Communities.Count];
        _online = new OnlineSet(n);
        _scratchReceived = new bool[n];
        _peerScratch = new int[n];
        _need99 = (int)Math.Ceiling(0.99 * n);
        // Nothing is published yet, so every node starts with the complete (empty) history.
        foreach (var node in _nodes) node.Complete = true;
        _complete = n;
        var peerRng = new SimRandom(scenario.Seed, 1UL << 41);
        foreach (var node in _nodes)
            if (node.Group.Sync.KnownPeers > 0) node.Known = PickKnown(node, node.Group.Sync.KnownPeers, peerRng);
    }

    int[] PickKnown(SimNode node, int count, SimRandom rng)
    {
        var others = _nodes.Where(x => x.Id != node.Id).Select(x => x.Id).ToArray();
        count = Math.Min(count, others.Length);
        for (int i = 0; i < count; i++)
        {
            int j = i + rng.Next(others.Length - i);
            (others[i], others[j]) = (others[j], others[i]);
        }
        return others[..count];
    }

    public IReadOnlyList<SimNode> Nodes => _nodes;

    public RunResult Run()
    {
        var wall = Stopwatch.StartNew();
        long duration = _scenario.Duration;
        foreach (var node in _nodes) StartSchedule(node);
        for (int c = 0; c < _scenario.Communities.Count; c++) ScheduleNextPublish(c, _scenario.Communities[c].Start);
        _queue.At(0, EventKind.Sample, 0);
        long publishEnd = _scenario.PublishEnd;
        // With publishing until the end there is no "after" to converge in; the spread delays describe such runs.
        bool trackConvergence = publishEnd < duration;
        while (_queue.TryNext(duration, out var e))
        {
            switch (e.Kind)
            {
                case EventKind.Toggle: Toggle(_nodes[e.Subject]); break;
                case EventKind.Publish: Publish(e.Subject); break;
                case EventKind.SyncTick: SyncTick(_nodes[e.Subject], e.Epoch); break;
                case EventKind.SyncEnd: SyncEnd((Exchange)e.Payload!); break;
                case EventKind.Sample: Sample(); break;
            }
            if (trackConvergence && _queue.Now >= publishEnd) NoteConvergence(publishEnd);
            if (_progress is not null && _queue.Processed % ProgressEvery == 0) _progress(_queue.Now, duration, _queue.Processed);
        }
        _progress?.Invoke(duration, duration, _queue.Processed);
        return Result(wall.Elapsed.TotalSeconds);
    }

    // ----- schedules -----

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
            _online.Remove(node.Id);
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
        _online.Add(node.Id);
        var sync = node.Group.Sync;
        if (sync.Peers > 0)
            _queue.At(_queue.Now + (long)(sync.StartDelay * node.PeerChoice.NextDouble()), EventKind.SyncTick, node.Id, node.Epoch);
    }

    // ----- publishing -----

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

    // ----- sync -----

    void SyncTick(SimNode node, int epoch)
    {
        if (!node.Online || node.Epoch != epoch) return; // scheduled in an earlier online session
        long now = _queue.Now;
        EvictOld(node);
        var sync = node.Group.Sync;
        int picked = PickPeers(node, sync.Peers);
        if (sync.Parallel)
            for (int i = 0; i < picked; i++) StartExchange(node, _nodes[_peerScratch[i]], null);
        else if (picked > 0)
            ContinueRound(new Round(node, epoch, _peerScratch[..picked]));
        _queue.At(now + sync.Interval, EventKind.SyncTick, node.Id, epoch);
    }

    /// <summary>A round that syncs with its peers one after the other (the default: no two peers push the same messages).</summary>
    sealed class Round(SimNode node, int epoch, int[] peers)
    {
        public SimNode Node { get; } = node;
        public int Epoch { get; } = epoch;
        public int[] Peers { get; } = peers;
        public int Next { get; set; }
    }

    void ContinueRound(Round round)
    {
        if (!round.Node.Online || round.Node.Epoch != round.Epoch) return;
        while (round.Next < round.Peers.Length)
        {
            var peer = _nodes[round.Peers[round.Next++]];
            if (!peer.Online) continue; // it left while the earlier exchanges ran
            StartExchange(round.Node, peer, round);
            return;
        }
    }

    int PickPeers(SimNode node, int wanted)
    {
        int count = 0;
        if (node.Known is { } known)
        {
            foreach (int p in known)
                if (_nodes[p].Online) _peerScratch[count++] = p;
        }
        else
            foreach (int p in _online.Members)
                if (p != node.Id) _peerScratch[count++] = p;
        // Candidates come in a deterministic order (the online set's order is a function of the run); a partial
        // Fisher–Yates draws `wanted` of them.
        int take = Math.Min(wanted, count);
        for (int i = 0; i < take; i++)
        {
            int j = i + node.PeerChoice.Next(count - i);
            (_peerScratch[i], _peerScratch[j]) = (_peerScratch[j], _peerScratch[i]);
        }
        return take;
    }

    LinkSettings Link(SimNode a, SimNode b)
    {
        foreach (var o in _scenario.Links)
            if ((o.GroupA == a.GroupIndex && o.GroupB == b.GroupIndex) || (o.GroupA == b.GroupIndex && o.GroupB == a.GroupIndex))
                return new LinkSettings(o.Link.Latency >= 0 ? o.Link.Latency : a.Group.Network.Latency + b.Group.Network.Latency,
                    o.Link.BytesPerSecond > 0 ? o.Link.BytesPerSecond : Math.Min(a.Group.Network.BytesPerSecond, b.Group.Network.BytesPerSecond));
        return new LinkSettings(a.Group.Network.Latency + b.Group.Network.Latency, Math.Min(a.Group.Network.BytesPerSecond, b.Group.Network.BytesPerSecond));
    }

    /// <summary>What a sync exchange between two nodes decided at its start, delivered at its end.</summary>
    sealed class Exchange
    {
        public required SimNode A, B;
        public required int EpochA, EpochB;
        public long ReconEnd;
        public Round? Round;
        public required LinkSettings Link;
        public readonly List<(int Community, int Message)> ToA = [], ToB = [];
    }

    void StartExchange(SimNode a, SimNode b, Round? round)
    {
        long now = _queue.Now;
        EvictOld(b);
        var link = Link(a, b);
        var sync = a.Group.Sync;
        long end = Scenario.Epoch + now - sync.Lag;
        long start = sync.Window is long w ? end - w : Scenario.Epoch;
        double elapsed = 0;
        var exchange = new Exchange { A = a, B = b, EpochA = a.Epoch, EpochB = b.Epoch, Link = link, Round = round };
        foreach (int c in a.Communities)
        {
            int slotB = b.SlotOf[c];
            if (slotB < 0 || end <= start) continue;
            var community = _scenario.Communities[c];
            var scope = new SyncScope([community.PubsubTopic], [community.ContentTopic]);
            ISyncItemSource sourceA = a.Store.Source(a.SlotOf[c]), sourceB = b.Store.Source(slotB);
            long horizonA = SyncHorizon(a), horizonB = SyncHorizon(b);
            ReconciliationSession initiator, responder;
            if (sync.Protocol == SyncProtocol.Native)
            {
                initiator = new NativeReconciliation(scope, _ => sourceA, start, end, horizonA);
                responder = new NativeReconciliation(scope, _ => sourceB, horizon: horizonB);
            }
            else
            {
                long from = Math.Max(start, horizonA);
                if (from >= end) continue;
                initiator = new NwakuReconciliation(scope, _ => sourceA, from, end);
                responder = new NwakuReconciliation(scope, _ => sourceB);
            }
            int frames = 0;
            try
            {
                byte[]? frame = initiator.Initiate();
                var (to, other) = (responder, initiator);
                while (frame is not null)
                {
                    frames++;
                    elapsed += link.Latency + frame.Length * 1e9 / link.BytesPerSecond;
                    frame = to.Receive(frame);
                    (to, other) = (other, to);
                }
            }
            catch (SyncProtocolException)
            {
                // Two honest engines should never fail; count it so the summary shows an engine problem instead of hiding it.
                _sessionErrors++;
                continue;
            }
            finally
            {
                a.Sessions++;
                b.Sessions++;
                a.RoundTrips += (frames + 1) / 2;
                b.RoundTrips += (frames + 1) / 2;
                a.ReconBytesSent += initiator.BytesSent; a.ReconBytesReceived += initiator.BytesReceived;
                b.ReconBytesSent += responder.BytesSent; b.ReconBytesReceived += responder.BytesReceived;
            }
            AddSorted(exchange.ToB, c, initiator.ToSend);
            AddSorted(exchange.ToA, c, responder.ToSend);
        }
        exchange.ReconEnd = now + (long)Math.Ceiling(elapsed);
        double transfer = Math.Max(TransferTime(exchange.ToA, link), TransferTime(exchange.ToB, link));
        _queue.At(exchange.ReconEnd + (long)Math.Ceiling(transfer), EventKind.SyncEnd, a.Id, payload: exchange);
    }

    void AddSorted(List<(int, int)> into, int community, IEnumerable<SyncItem> items)
    {
        // Set order is not part of the session's contract: sort so transfers (and cut-offs) are deterministic.
        var sorted = items.ToArray();
        if (sorted.Length == 0) return;
        Array.Sort(sorted);
        foreach (var item in sorted) into.Add((community, _catalog.IndexOf(item)));
    }

    double TransferTime(List<(int Community, int Message)> items, LinkSettings link)
    {
        if (items.Count == 0) return 0;
        long bytes = 0;
        foreach (var (_, m) in items) bytes += _catalog.WireBytes(m);
        return link.Latency + bytes * 1e9 / link.BytesPerSecond;
    }

    void SyncEnd(Exchange x)
    {
        long cutoff = Math.Min(x.A.OfflineAfter(x.EpochA), x.B.OfflineAfter(x.EpochB));
        if (cutoff < x.ReconEnd)
        {
            x.A.FailedExchanges++;
            x.B.FailedExchanges++;
        }
        else
        {
            Deliver(x.B, x.A, x.ToB, x, cutoff);
            Deliver(x.A, x.B, x.ToA, x, cutoff);
        }
        if (x.Round is { } round) ContinueRound(round);
    }

    void Deliver(SimNode to, SimNode from, List<(int Community, int Message)> items, Exchange x, long cutoff)
    {
        if (items.Count == 0) return;
        long now = _queue.Now;
        double start = x.ReconEnd + x.Link.Latency;
        long bytes = 0;
        long horizon = SyncHorizon(to);
        var batch = new List<int>();
        int batchSlot = -1;
        foreach (var (c, m) in items)
        {
            long wire = _catalog.WireBytes(m);
            if (start + (bytes + wire) * 1e9 / x.Link.BytesPerSecond > cutoff) break; // the link went down mid-transfer
            bytes += wire;
            if (_catalog.Item(m).Timestamp < horizon) { to.DroppedOld++; continue; }
            int slot = to.SlotOf[c];
            if (slot != batchSlot) { Flush(to, batchSlot, batch, now); batchSlot = slot; }
            batch.Add(m);
        }
        Flush(to, batchSlot, batch, now);
        from.TransferBytesSent += bytes;
        to.TransferBytesReceived += bytes;
        EnforceCount(to);
        UpdateCompleteness(to);
    }

    void Flush(SimNode to, int slot, List<int> batch, long now)
    {
        if (batch.Count == 0) return;
        var added = to.Store.AddRange(slot, batch);
        to.DuplicateTransfers += batch.Count - added.Count; // it got them meanwhile, live or from another peer
        foreach (int m in added)
        {
            _catalog.Gained(m, now);
            to.ReceivedBySync++;
            to.Held++;
        }
        batch.Clear();
    }

    // ----- retention -----

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

    // ----- completeness -----

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

    // ----- samples -----

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
        double meanOnlineComplete = _series.Where(r => r.Online > 0).Select(r => r.OnlineCompleteFraction).DefaultIfEmpty(0).Average();
        return new RunResult
        {
            Name = _scenario.Name, Nodes = _nodes.Length, Duration = _scenario.Duration, PublishEnd = _scenario.PublishEnd,
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
            Events = _queue.Processed, WallSeconds = wallSeconds, Series = _series,
        };
    }

    public void Dispose()
    {
        foreach (var node in _nodes) node.Store?.Dispose();
        if (_storageRoot is not null && Directory.Exists(_storageRoot))
        {
            try { Directory.Delete(_storageRoot, recursive: true); }
            catch (IOException e) { Console.Error.WriteLine($"storesync-sim: could not delete {_storageRoot}: {e.Message}"); }
        }
    }
}
