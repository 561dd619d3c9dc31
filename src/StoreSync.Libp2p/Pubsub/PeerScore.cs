using System.Net;
using StoreSync.Libp2p.Identity;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>
/// Peer scoring of gossipsub v1.1 (gossipsub-v1.1.md "The Score Function"): per-topic P1 time in mesh, P2 first
/// deliveries, P3 mesh delivery deficit, P3b mesh failure penalty, P4 invalid messages; global P5 application score,
/// P6 IP colocation, P7 behaviour penalty; counters decayed every decay interval; stats of a disconnected peer kept for
/// the retain time so reconnecting does not clear a bad score. Not thread-safe (the router's lock).
/// </summary>
internal sealed class PeerScore(PeerScoreParams parameters)
{
    sealed class TopicStats
    {
        public bool InMesh;
        public long GraftedAtMs;
        public double FirstMessageDeliveries;
        public double MeshMessageDeliveries;
        public bool MeshMessageDeliveriesActive;
        public double MeshFailurePenalty;
        public double InvalidMessageDeliveries;
    }

    sealed class PeerStats
    {
        public bool Connected;
        public long ExpiresAtMs;
        public IPAddress? Ip;
        public double BehaviourPenalty;
        public double AppScore;
        public readonly Dictionary<string, TopicStats> Topics = new(StringComparer.Ordinal);
    }

    readonly Dictionary<PeerId, PeerStats> _peers = [];
    readonly Dictionary<IPAddress, int> _peersPerIp = [];

    public PeerScoreParams Parameters { get; } = parameters;

    public void AddPeer(PeerId peer, IPAddress? ip)
    {
        if (!_peers.TryGetValue(peer, out var stats)) _peers[peer] = stats = new PeerStats();
        if (stats.Connected) return;
        stats.Connected = true;
        stats.Ip = ip;
        if (ip is not null) _peersPerIp[ip] = _peersPerIp.GetValueOrDefault(ip) + 1;
    }

    public void RemovePeer(PeerId peer, long nowMs)
    {
        if (!_peers.TryGetValue(peer, out var stats) || !stats.Connected) return;
        stats.Connected = false;
        if (stats.Ip is not null && _peersPerIp.TryGetValue(stats.Ip, out int n))
        {
            if (n <= 1) _peersPerIp.Remove(stats.Ip);
            else _peersPerIp[stats.Ip] = n - 1;
        }
        // A peer that leaves with a positive score is forgotten; a negative one is kept so reconnecting does not wash it.
        if (Score(peer, nowMs) > 0)
        {
            _peers.Remove(peer);
            return;
        }
        foreach (var (topic, t) in stats.Topics)
            if (t.InMesh) LeaveMesh(topic, t);
        stats.ExpiresAtMs = nowMs + (long)Parameters.RetainScore.TotalMilliseconds;
    }

    public void Graft(PeerId peer, string topic, long nowMs)
    {
        var t = TopicOf(peer, topic);
        if (t is null) return;
        t.InMesh = true;
        t.GraftedAtMs = nowMs;
        t.MeshMessageDeliveriesActive = false;
    }

    public void Prune(PeerId peer, string topic)
    {
        var t = TopicOf(peer, topic);
        if (t is not null && t.InMesh) LeaveMesh(topic, t);
    }

    void LeaveMesh(string topic, TopicStats t)
    {
        var p = Parameters.For(topic);
        // P3b: a peer pruned while short of mesh deliveries keeps the squared deficit as a penalty.
        if (p is not null && t.MeshMessageDeliveriesActive && t.MeshMessageDeliveries < p.MeshMessageDeliveriesThreshold)
        {
            double deficit = p.MeshMessageDeliveriesThreshold - t.MeshMessageDeliveries;
            t.MeshFailurePenalty += deficit * deficit;
        }
        t.InMesh = false;
    }

    /// <summary>The first delivery of a message that then validated: P2 for the deliverer, P3 if it is a mesh peer.</summary>
    public void FirstDelivery(PeerId peer, string topic)
    {
        var t = TopicOf(peer, topic);
        var p = Parameters.For(topic);
        if (t is null || p is null) return;
        t.FirstMessageDeliveries = Math.Min(t.FirstMessageDeliveries + 1, p.FirstMessageDeliveriesCap);
        if (t.InMesh) t.MeshMessageDeliveries = Math.Min(t.MeshMessageDeliveries + 1, p.MeshMessageDeliveriesCap);
    }

    /// <summary>A duplicate of a valid message: counts toward P3 when from a mesh peer within the delivery window.</summary>
    public void NearFirstDelivery(PeerId peer, string topic, long firstSeenMs, long nowMs)
    {
        var t = TopicOf(peer, topic);
        var p = Parameters.For(topic);
        if (t is null || p is null || !t.InMesh) return;
        if (nowMs - firstSeenMs > (long)p.MeshMessageDeliveriesWindow.TotalMilliseconds) return;
        t.MeshMessageDeliveries = Math.Min(t.MeshMessageDeliveries + 1, p.MeshMessageDeliveriesCap);
    }

    /// <summary>P4: the peer delivered a message that was rejected.</summary>
    public void InvalidDelivery(PeerId peer, string topic)
    {
        var t = TopicOf(peer, topic);
        if (t is not null) t.InvalidMessageDeliveries += 1;
    }

    /// <summary>P7: misbehaviour (GRAFT in backoff, broken IWANT promise, …).</summary>
    public void AddPenalty(PeerId peer, double count)
    {
        if (_peers.TryGetValue(peer, out var stats)) stats.BehaviourPenalty += count;
    }

    public void SetApplicationScore(PeerId peer, double score)
    {
        if (_peers.TryGetValue(peer, out var stats)) stats.AppScore = score;
    }

    public double Score(PeerId peer, long nowMs)
    {
        if (!_peers.TryGetValue(peer, out var stats)) return 0;
        double topics = 0;
        foreach (var (topic, t) in stats.Topics)
        {
            var p = Parameters.For(topic);
            if (p is null) continue;
            double s = 0;
            if (t.InMesh)
            {
                double quanta = (nowMs - t.GraftedAtMs) / Math.Max(1, p.TimeInMeshQuantum.TotalMilliseconds);
                s += p.TimeInMeshWeight * Math.Min(quanta, p.TimeInMeshCap);
            }
            s += p.FirstMessageDeliveriesWeight * t.FirstMessageDeliveries;
            if (t.MeshMessageDeliveriesActive && t.MeshMessageDeliveries < p.MeshMessageDeliveriesThreshold)
            {
                double deficit = p.MeshMessageDeliveriesThreshold - t.MeshMessageDeliveries;
                s += p.MeshMessageDeliveriesWeight * deficit * deficit;
            }
            s += p.MeshFailurePenaltyWeight * t.MeshFailurePenalty;
            s += p.InvalidMessageDeliveriesWeight * t.InvalidMessageDeliveries * t.InvalidMessageDeliveries;
            topics += p.TopicWeight * s;
        }
        if (Parameters.TopicScoreCap > 0) topics = Math.Min(topics, Parameters.TopicScoreCap);

        double score = topics + Parameters.AppSpecificWeight * stats.AppScore;
        if (stats.Ip is not null && !Parameters.IpColocationFactorWhitelist.Contains(stats.Ip)
            && _peersPerIp.TryGetValue(stats.Ip, out int sharing) && sharing > Parameters.IpColocationFactorThreshold)
        {
            double surplus = sharing - Parameters.IpColocationFactorThreshold;
            score += Parameters.IpColocationFactorWeight * surplus * surplus;
        }
        if (stats.BehaviourPenalty > Parameters.BehaviourPenaltyThreshold)
        {
            double excess = stats.BehaviourPenalty - Parameters.BehaviourPenaltyThreshold;
            score += Parameters.BehaviourPenaltyWeight * excess * excess;
        }
        return score;
    }

    /// <summary>Peers scored below <paramref name="threshold"/>, connected or kept after a disconnect for the retain time.</summary>
    public int CountBelow(double threshold, long nowMs)
    {
        int n = 0;
        foreach (var peer in _peers.Keys)
            if (Score(peer, nowMs) < threshold) n++;
        return n;
    }

    /// <summary>Decays every counter once and forgets disconnected peers whose retain time is over.</summary>
    public void Decay(long nowMs)
    {
        List<PeerId>? expired = null;
        double zero = Parameters.DecayToZero;
        foreach (var (peer, stats) in _peers)
        {
            if (!stats.Connected && stats.ExpiresAtMs <= nowMs)
            {
                (expired ??= []).Add(peer);
                continue;
            }
            foreach (var (topic, t) in stats.Topics)
            {
                var p = Parameters.For(topic);
                if (p is null) continue;
                t.FirstMessageDeliveries = Decayed(t.FirstMessageDeliveries, p.FirstMessageDeliveriesDecay, zero);
                t.MeshMessageDeliveries = Decayed(t.MeshMessageDeliveries, p.MeshMessageDeliveriesDecay, zero);
                t.MeshFailurePenalty = Decayed(t.MeshFailurePenalty, p.MeshFailurePenaltyDecay, zero);
                t.InvalidMessageDeliveries = Decayed(t.InvalidMessageDeliveries, p.InvalidMessageDeliveriesDecay, zero);
                // P3 counts only after the activation time in the mesh, so a newly grafted peer is not punished at once.
                if (t.InMesh && p.MeshMessageDeliveriesWeight != 0
                    && nowMs - t.GraftedAtMs >= (long)p.MeshMessageDeliveriesActivation.TotalMilliseconds)
                    t.MeshMessageDeliveriesActive = true;
            }
            stats.BehaviourPenalty = Decayed(stats.BehaviourPenalty, Parameters.BehaviourPenaltyDecay, zero);
        }
        if (expired is not null)
            foreach (var peer in expired) _peers.Remove(peer);
    }

    static double Decayed(double value, double decay, double zero)
    {
        double v = value * decay;
        return v < zero ? 0 : v;
    }

    TopicStats? TopicOf(PeerId peer, string topic)
    {
        if (!_peers.TryGetValue(peer, out var stats) || Parameters.For(topic) is null) return null;
        if (!stats.Topics.TryGetValue(topic, out var t)) stats.Topics[topic] = t = new TopicStats();
        return t;
    }
}
