using System.Net;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>The global score parameters P5–P7 of gossipsub v1.1, the decay and the per-topic parameters.</summary>
public sealed record PeerScoreParams
{
    /// <summary>Per-topic parameters; a topic not listed contributes nothing to a score.</summary>
    public IReadOnlyDictionary<string, TopicScoreParams> Topics { get; init; } = new Dictionary<string, TopicScoreParams>();

    /// <summary>Parameters for every topic not in <see cref="Topics"/> (null: such topics are not scored).</summary>
    public TopicScoreParams? DefaultTopic { get; init; }

    /// <summary>Upper bound of the summed topic part of a score (0: none).</summary>
    public double TopicScoreCap { get; init; }

    /// <summary>P5: weight of the application's own score (<see cref="GossipsubRouter.SetApplicationScore"/>).</summary>
    public double AppSpecificWeight { get; init; }

    /// <summary>P6: weight (negative) of the squared count of peers beyond the threshold sharing one IP address.</summary>
    public double IpColocationFactorWeight { get; init; }
    public double IpColocationFactorThreshold { get; init; } = 1;

    /// <summary>Addresses P6 never counts (in tests and benchmarks: loopback, where every peer shares 127.0.0.1).</summary>
    public IReadOnlySet<IPAddress> IpColocationFactorWhitelist { get; init; } = new HashSet<IPAddress>();

    /// <summary>P7: weight (negative) of the squared behaviour penalty beyond its threshold.</summary>
    public double BehaviourPenaltyWeight { get; init; } = -1;
    public double BehaviourPenaltyThreshold { get; init; }
    public double BehaviourPenaltyDecay { get; init; } = 0.999;

    /// <summary>How often counters decay.</summary>
    public TimeSpan DecayInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A decayed counter below it becomes 0.</summary>
    public double DecayToZero { get; init; } = 0.01;

    /// <summary>How long a disconnected peer's score is remembered (so reconnecting does not wash it).</summary>
    public TimeSpan RetainScore { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The topic's parameters, or null when the topic is not scored.</summary>
    public TopicScoreParams? For(string topic) => Topics.TryGetValue(topic, out var p) ? p : DefaultTopic;
}
