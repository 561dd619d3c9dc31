namespace StoreSync.Storage.Retention;

/// <summary>
/// Retention of one scope: its policies (none = no limit of its own) and its priority under the global limit — the global limit
/// takes from the lowest priority first, and from a higher one only once every lower-priority scope is empty.
/// </summary>
public sealed record ScopeRetention
{
    public ScopeRetention(RetentionScope scope, IReadOnlyList<RetentionPolicy> policies, int priority = 0)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(policies);
        if (policies.Any(p => p is null)) throw new ArgumentException($"scope '{scope.Id}' has a null policy", nameof(policies));
        Scope = scope;
        Policies = policies;
        Priority = priority;
    }

    public RetentionScope Scope { get; }

    public IReadOnlyList<RetentionPolicy> Policies { get; }

    public int Priority { get; }

    /// <summary>A scope kept to at most <paramref name="maxBytes"/> bytes (null = no limit of its own).</summary>
    public static ScopeRetention Bytes(RetentionScope scope, long? maxBytes, int priority = 0) =>
        new(scope, maxBytes is { } b ? [new SizeRetentionPolicy(b)] : [], priority);

    /// <summary>The goal of every policy combined.</summary>
    public EvictionGoal Goal(TopicFigures figures, DateTimeOffset now)
    {
        var goal = EvictionGoal.Nothing;
        foreach (var policy in Policies) goal |= policy.Goal(figures, now);
        return goal;
    }

    /// <summary>The tightest limit of each kind among the policies, and <paramref name="globalMaxBytes"/>.</summary>
    public RetentionLimits Limits(long? globalMaxBytes)
    {
        var limits = RetentionLimits.None with { GlobalMaxBytes = globalMaxBytes };
        foreach (var policy in Policies) limits = policy.Restrict(limits);
        return limits;
    }
}
