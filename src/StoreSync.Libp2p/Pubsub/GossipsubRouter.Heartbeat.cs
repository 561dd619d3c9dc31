using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Pubsub.Pb;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>
/// The heartbeat (gossipsub-v1.0.md "Heartbeat", v1.1 additions): scores, broken promises, mesh maintenance with
/// D_lo/D/D_hi/D_score/D_out and opportunistic grafting, fanout expiry, gossip emission, cache shift, score decay.
/// </summary>
public sealed partial class GossipsubRouter
{
    async Task HeartbeatLoopAsync(CancellationToken ct)
    {
        try
        {
            await Task.Delay(_options.HeartbeatInitialDelay, _options.Time, ct).ConfigureAwait(false);
            using var timer = new PeriodicTimer(_options.HeartbeatInterval, _options.Time);
            do
            {
                try
                {
                    Heartbeat();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _log.LogError(e, "Gossipsub heartbeat failed");
                }
            }
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>One heartbeat; public to internal tests so they can step the router without waiting.</summary>
    internal void Heartbeat()
    {
        lock (_gate)
        {
            long now = NowMs;
            _heartbeats++;
            if (now - _lastDecayMs >= (long)_options.Score.DecayInterval.TotalMilliseconds)
            {
                _score.Decay(now);
                _lastDecayMs = now;
            }
            ApplyBrokenPromises(now);
            foreach (var p in _peers.Values)
            {
                p.Score = _score.Score(p.Id, now);
                p.IHavesThisHeartbeat = 0;
                p.IdsAskedThisHeartbeat = 0;
            }
            ExpireBackoffs(now);

            var controls = new Dictionary<PubsubPeer, ControlMessage>();
            foreach (var (topic, mesh) in _mesh)
            {
                MaintainMesh(topic, mesh, controls, now);
                EmitGossip(topic, mesh, controls);
            }
            MaintainFanout(controls, now);
            foreach (var (peer, control) in controls) SendControl(peer, control);

            _mcache.Shift();
            _seen.Expire(now);
            foreach (var p in _peers.Values) MaybeDisconnect(p);
        }
    }

    void MaintainMesh(string topic, HashSet<PubsubPeer> mesh, Dictionary<PubsubPeer, ControlMessage> controls, long now)
    {
        // Peers with a negative score leave the mesh (without peer exchange).
        List<PubsubPeer>? negative = null;
        foreach (var p in mesh)
            if (p.Score < 0) (negative ??= []).Add(p);
        if (negative is not null)
            foreach (var p in negative) Prune(topic, mesh, p, controls, peerExchange: false);

        if (mesh.Count < _options.DLow)
        {
            var candidates = Shuffled(Candidates(topic, mesh, p => p.Score >= 0 && !InBackoff(topic, p.Id)));
            for (int i = 0; i < candidates.Count && mesh.Count < _options.D; i++) Graft(topic, mesh, candidates[i], controls, now);
        }

        if (mesh.Count > _options.DHigh)
        {
            // Keep the D_score best, fill to D at random, then make sure D_out of them are outbound.
            var byScore = mesh.OrderByDescending(p => p.Score).ToList();
            var keep = byScore.Take(_options.DScore).ToList();
            var rest = Shuffled(byScore.Skip(_options.DScore).ToList());
            keep.AddRange(rest.Take(_options.D - keep.Count));
            var dropped = rest.Skip(_options.D - _options.DScore).ToList();
            int outbound = keep.Count(p => p.IsOutboundConnection);
            for (int i = 0; i < dropped.Count && outbound < _options.DOut; i++)
            {
                if (!dropped[i].IsOutboundConnection) continue;
                int victim = keep.FindLastIndex(p => !p.IsOutboundConnection);
                if (victim < 0) break;
                (keep[victim], dropped[i]) = (dropped[i], keep[victim]);
                outbound++;
            }
            foreach (var p in dropped) Prune(topic, mesh, p, controls, peerExchange: true);
        }

        if (mesh.Count >= _options.DLow)
        {
            int outbound = 0;
            foreach (var p in mesh)
                if (p.IsOutboundConnection) outbound++;
            if (outbound < _options.DOut)
            {
                var candidates = Shuffled(Candidates(topic, mesh, p => p.IsOutboundConnection && p.Score >= 0 && !InBackoff(topic, p.Id)));
                for (int i = 0; i < candidates.Count && outbound < _options.DOut; i++, outbound++) Graft(topic, mesh, candidates[i], controls, now);
            }
        }

        // Opportunistic grafting (v1.1): if the mesh's median score is poor, bring in peers scoring above it.
        if (_options.OpportunisticGraftTicks > 0 && _heartbeats % _options.OpportunisticGraftTicks == 0 && mesh.Count > 1)
        {
            var scores = mesh.Select(p => p.Score).Order().ToList();
            double median = scores[scores.Count / 2];
            if (median < _options.Thresholds.OpportunisticGraftThreshold)
            {
                var better = Shuffled(Candidates(topic, mesh, p => p.Score > median && !InBackoff(topic, p.Id)));
                foreach (var p in better.Take(_options.OpportunisticGraftPeers)) Graft(topic, mesh, p, controls, now);
            }
        }
    }

    void Graft(string topic, HashSet<PubsubPeer> mesh, PubsubPeer peer, Dictionary<PubsubPeer, ControlMessage> controls, long now)
    {
        if (!mesh.Add(peer)) return;
        _score.Graft(peer.Id, topic, now);
        ControlFor(peer, controls).Graft.Add(new ControlGraft { TopicID = topic });
    }

    void Prune(string topic, HashSet<PubsubPeer> mesh, PubsubPeer peer, Dictionary<PubsubPeer, ControlMessage> controls, bool peerExchange)
    {
        if (!mesh.Remove(peer)) return;
        _score.Prune(peer.Id, topic);
        ControlFor(peer, controls).Prune.Add(MakePrune(topic, peer, _options.PruneBackoff, peerExchange));
    }

    void MaintainFanout(Dictionary<PubsubPeer, ControlMessage> controls, long now)
    {
        List<string>? expired = null;
        foreach (var (topic, published) in _fanoutPublishedMs)
            if (now - published > (long)_options.FanoutTtl.TotalMilliseconds) (expired ??= []).Add(topic);
        if (expired is not null)
        {
            foreach (var topic in expired)
            {
                _fanout.Remove(topic);
                _fanoutPublishedMs.Remove(topic);
            }
        }
        double threshold = _options.Thresholds.PublishThreshold;
        foreach (var (topic, fanout) in _fanout)
        {
            fanout.RemoveWhere(p => !p.Ready || !p.Topics.Contains(topic) || p.Score < threshold);
            if (fanout.Count < _options.D)
                foreach (var p in Shuffled(Candidates(topic, fanout, c => c.Score >= threshold)).Take(_options.D - fanout.Count))
                    fanout.Add(p);
            EmitGossip(topic, fanout, controls);
        }
    }

    /// <summary>IHAVE of the recent message ids to max(D_lazy, gossip factor × eligible) non-mesh peers above the gossip threshold.</summary>
    void EmitGossip(string topic, HashSet<PubsubPeer> exclude, Dictionary<PubsubPeer, ControlMessage> controls)
    {
        var ids = new List<byte[]>();
        _mcache.GossipIds(topic, ids, _options.MaxIHaveLength);
        if (ids.Count == 0) return;
        double threshold = _options.Thresholds.GossipThreshold;
        var eligible = Shuffled(Candidates(topic, exclude, p => p.Score >= threshold));
        int target = Math.Max(_options.DLazy, (int)(_options.GossipFactor * eligible.Count));
        for (int i = 0; i < eligible.Count && i < target; i++)
        {
            var ihave = new ControlIHave { TopicID = topic };
            foreach (var id in ids) ihave.MessageIDs.Add(Google.Protobuf.ByteString.CopyFrom(id));
            ControlFor(eligible[i], controls).Ihave.Add(ihave);
        }
    }

    static ControlMessage ControlFor(PubsubPeer peer, Dictionary<PubsubPeer, ControlMessage> controls)
    {
        if (!controls.TryGetValue(peer, out var control)) controls[peer] = control = new ControlMessage();
        return control;
    }

    /// <summary>P7 for every IWANT whose promised message did not arrive in time.</summary>
    void ApplyBrokenPromises(long now)
    {
        List<ulong>? done = null;
        foreach (var (key, list) in _promises)
        {
            for (int i = list.Count - 1; i >= 0; i--)
            {
                if (list[i].DeadlineMs > now) continue;
                _score.AddPenalty(list[i].Peer, 1);
                list.RemoveAt(i);
            }
            if (list.Count == 0) (done ??= []).Add(key);
        }
        if (done is not null)
            foreach (var key in done) _promises.Remove(key);
    }

    void ExpireBackoffs(long now)
    {
        List<(string, PeerId)>? expired = null;
        foreach (var (key, until) in _backoffUntilMs)
            if (until <= now) (expired ??= []).Add(key);
        if (expired is not null)
            foreach (var key in expired) _backoffUntilMs.Remove(key);
    }
}
