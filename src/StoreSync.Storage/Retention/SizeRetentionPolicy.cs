namespace StoreSync.Storage.Retention;

/// <summary>At most <see cref="MaxBytes"/> bytes (stored-form bytes, as the counters count them) in the scope.</summary>
public sealed class SizeRetentionPolicy : RetentionPolicy
{
    public SizeRetentionPolicy(long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        MaxBytes = maxBytes;
    }

    public long MaxBytes { get; }

    public override EvictionGoal Goal(TopicFigures figures, DateTimeOffset now) => EvictionGoal.Nothing with { Bytes = figures.Bytes - MaxBytes };

    public override RetentionLimits Restrict(RetentionLimits limits) => limits with { MaxBytes = Min(limits.MaxBytes, MaxBytes) };

    public override string ToString() => $"size ≤ {MaxBytes} B";
}
