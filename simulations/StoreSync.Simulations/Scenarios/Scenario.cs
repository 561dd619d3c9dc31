namespace StoreSync.Simulations.Scenarios;

/// <summary>A validated simulation scenario: who stores what, who is online when, how they sync, for how long.</summary>
/// <remarks>All times are virtual nanoseconds from the start of the run; <see cref="Epoch"/> maps them to message timestamps.</remarks>
public sealed record Scenario
{
    /// <summary>Message timestamp of virtual time 0 (2023-11-14T22:13:20Z): realistic 19-digit nanosecond timestamps.</summary>
    public const long Epoch = 1_700_000_000_000_000_000;

    public required string Name { get; init; }
    public string? Description { get; init; }
    public required ulong Seed { get; init; }
    public required long Duration { get; init; }
    public required long SampleEvery { get; init; }
    public required StorageKind Storage { get; init; }
    public required IReadOnlyList<Community> Communities { get; init; }
    public required IReadOnlyList<NodeGroup> Groups { get; init; }
    public required IReadOnlyList<LinkOverride> Links { get; init; }

    public int NodeCount => Groups.Sum(g => g.Count);

    /// <summary>When the last community stops publishing (convergence times are measured from here).</summary>
    public long PublishEnd => Communities.Max(c => Math.Min(c.Stop, Duration));

    /// <summary>The expected number of messages all communities publish.</summary>
    public double ExpectedMessages => Communities.Sum(c => c.ExpectedMessages(Duration));
}

/// <summary>Where nodes keep their messages.</summary>
public enum StorageKind { Memory, RocksDb }

/// <summary>How publication instants are drawn.</summary>
public enum Arrival { Poisson, Uniform }

/// <summary>The distribution of online (and offline) session lengths around their means.</summary>
public enum SessionDistribution { Exponential, Fixed }

/// <summary>The reconciliation protocol nodes speak.</summary>
public enum SyncProtocol { Native, Nwaku }

/// <summary>A community: one content topic on one pubsub topic, publishing at a rate with a size distribution.</summary>
public sealed record Community
{
    public required string Name { get; init; }
    public required string PubsubTopic { get; init; }
    public required string ContentTopic { get; init; }
    /// <summary>Messages per second (mean for Poisson arrival).</summary>
    public required double Rate { get; init; }
    /// <summary>Set when the file gave a total count: exactly this many messages, evenly spread (uniform arrival).</summary>
    public long? MessageCount { get; init; }
    public required Arrival Arrival { get; init; }
    public required int MinSize { get; init; }
    public required int MaxSize { get; init; }
    public required long Start { get; init; }
    public required long Stop { get; init; }

    public double ExpectedMessages(long duration) => MessageCount ?? Rate * Math.Max(0, Math.Min(Stop, duration) - Start) / 1e9;
}

/// <summary>A group of identical store nodes.</summary>
public sealed record NodeGroup
{
    public required string Name { get; init; }
    public required int Count { get; init; }
    /// <summary>Long-run fraction of time online, in (0, 1].</summary>
    public required double OnlineFraction { get; init; }
    /// <summary>Mean length of one online session (offline sessions follow from the fraction).</summary>
    public required long SessionLength { get; init; }
    public required SessionDistribution SessionDistribution { get; init; }
    /// <summary>Probability that a message relayed while the node is online is not stored.</summary>
    public required double IngestLoss { get; init; }
    /// <summary>Indexes into <see cref="Scenario.Communities"/> this group stores.</summary>
    public required IReadOnlyList<int> Communities { get; init; }
    public required SyncSettings Sync { get; init; }
    public required LinkSettings Network { get; init; }
    public required StorageLimits Limits { get; init; }

    /// <summary>Mean offline session length implied by the online fraction and the online session length.</summary>
    public double OfflineLength => OnlineFraction >= 1 ? 0 : SessionLength * (1 - OnlineFraction) / OnlineFraction;
}

/// <summary>How a node syncs: every <see cref="Interval"/> with <see cref="Peers"/> random online peers.</summary>
public sealed record SyncSettings
{
    public required long Interval { get; init; }
    public required int Peers { get; init; }
    public required SyncProtocol Protocol { get; init; }
    /// <summary>Reconciled range [now − lag − window, now − lag); null = the whole history.</summary>
    public required long? Window { get; init; }
    /// <summary>The newest messages are left to relay for this long (nwaku: 20 s).</summary>
    public required long Lag { get; init; }
    /// <summary>Peers a node knows and may pick from (0 = every node).</summary>
    public required int KnownPeers { get; init; }
    /// <summary>Sync with the round's peers at once (true) or one after the other (false, the default).</summary>
    public required bool Parallel { get; init; }
    /// <summary>Delay from coming online to the first sync round (a random fraction of it, so nodes do not move in lock-step).</summary>
    public required long StartDelay { get; init; }
}

/// <summary>A node's access link: one-way latency and bandwidth; a link between two nodes adds latencies and takes the smaller bandwidth.</summary>
public sealed record LinkSettings(long Latency, double BytesPerSecond);

/// <summary>A link between two groups that differs from what their access links imply.</summary>
public sealed record LinkOverride(int GroupA, int GroupB, LinkSettings Link);

/// <summary>What a node keeps: at most <see cref="MaxMessages"/> (0 = no limit), none older than <see cref="MaxAge"/> (0 = no limit).</summary>
public sealed record StorageLimits(long MaxMessages, long MaxAge)
{
    public static StorageLimits None { get; } = new(0, 0);
    public bool IsNone => MaxMessages == 0 && MaxAge == 0;
}
