using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;
using StoreSync.Reconciliation.Nwaku;
using StoreSync.Simulations.Model;
using StoreSync.Simulations.Scenarios;

namespace StoreSync.Simulations.Engine;

// Sync rounds and exchanges: real reconciliation sessions on virtual time, then the transfers.
internal sealed partial class Simulation
{
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
            long horizonA = SyncStart(a, a.SlotOf[c]), horizonB = SyncStart(b, slotB);
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
        var batch = new List<int>();
        int batchSlot = -1;
        foreach (var (c, m) in items)
        {
            long wire = _catalog.WireBytes(m);
            if (start + (bytes + wire) * 1e9 / x.Link.BytesPerSecond > cutoff) break; // the link went down mid-transfer
            bytes += wire;
            int slot = to.SlotOf[c];
            if (IsEvicted(to, slot, _catalog.Item(m))) { to.DroppedOld++; continue; }
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
}
