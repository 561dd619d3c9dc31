namespace StoreSync.Libp2p.Pubsub;

/// <summary>The per-topic score parameters P1–P4 of gossipsub v1.1 (gossipsub-v1.1.md "Topic Parameter Calculation").</summary>
/// <remarks>Decays are factors applied once per <see cref="PeerScoreParams.DecayInterval"/>; caps bound the counters.</remarks>
public sealed record TopicScoreParams
{
    /// <summary>Weight of the topic's sum in the peer's score.</summary>
    public double TopicWeight { get; init; } = 1;

    /// <summary>P1: weight of the time in mesh (counted in <see cref="TimeInMeshQuantum"/> units, capped).</summary>
    public double TimeInMeshWeight { get; init; } = 0.01;
    public TimeSpan TimeInMeshQuantum { get; init; } = TimeSpan.FromSeconds(1);
    public double TimeInMeshCap { get; init; } = 10;

    /// <summary>P2: weight of first deliveries of valid messages.</summary>
    public double FirstMessageDeliveriesWeight { get; init; } = 1;
    public double FirstMessageDeliveriesDecay { get; init; } = 0.5;
    public double FirstMessageDeliveriesCap { get; init; } = 10;

    /// <summary>P3: weight (negative) of the squared deficit of mesh deliveries below the threshold; 0 turns it off.</summary>
    public double MeshMessageDeliveriesWeight { get; init; }
    public double MeshMessageDeliveriesDecay { get; init; }
    public double MeshMessageDeliveriesCap { get; init; }
    public double MeshMessageDeliveriesThreshold { get; init; }
    public TimeSpan MeshMessageDeliveriesWindow { get; init; }
    public TimeSpan MeshMessageDeliveriesActivation { get; init; }

    /// <summary>P3b: weight (negative) of the deficit remembered when a peer leaves the mesh with one.</summary>
    public double MeshFailurePenaltyWeight { get; init; }
    public double MeshFailurePenaltyDecay { get; init; }

    /// <summary>P4: weight (negative) of the squared count of invalid (rejected) messages.</summary>
    public double InvalidMessageDeliveriesWeight { get; init; } = -100;
    public double InvalidMessageDeliveriesDecay { get; init; } = 0.5;
}
