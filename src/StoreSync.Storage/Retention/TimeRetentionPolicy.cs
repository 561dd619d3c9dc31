namespace StoreSync.Storage.Retention;

/// <summary>No message older than <see cref="MaxAge"/> by its own timestamp (nwaku's time policy).</summary>
public sealed class TimeRetentionPolicy : RetentionPolicy
{
    /// <summary>Longest age accepted: far beyond any real history, and small enough that nanoseconds fit in 64 bits.</summary>
    public static readonly TimeSpan MaxMaxAge = TimeSpan.FromDays(100 * 366);

    public TimeRetentionPolicy(TimeSpan maxAge)
    {
        if (maxAge < TimeSpan.Zero || maxAge > MaxMaxAge) throw new ArgumentOutOfRangeException(nameof(maxAge), maxAge, $"between 0 and {MaxMaxAge.TotalDays:0} days");
        MaxAge = maxAge;
    }

    public TimeSpan MaxAge { get; }

    public override EvictionGoal Goal(TopicFigures figures, DateTimeOffset now) =>
        EvictionGoal.Nothing with { OlderThan = (now - DateTimeOffset.UnixEpoch - MaxAge).Ticks * 100 };

    public override RetentionLimits Restrict(RetentionLimits limits) =>
        limits with { MaxAge = limits.MaxAge is { } a && a < MaxAge ? a : MaxAge };

    public override string ToString() => $"age ≤ {MaxAge}";
}
