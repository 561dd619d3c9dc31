namespace StoreSync.Storage.Retention;

/// <summary>At most <see cref="MaxMessages"/> messages in the scope (nwaku's capacity policy).</summary>
public sealed class CountRetentionPolicy : RetentionPolicy
{
    public CountRetentionPolicy(long maxMessages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessages);
        MaxMessages = maxMessages;
    }

    public long MaxMessages { get; }

    public override EvictionGoal Goal(TopicFigures figures, DateTimeOffset now) => EvictionGoal.Nothing with { Messages = figures.Messages - MaxMessages };

    public override RetentionLimits Restrict(RetentionLimits limits) => limits with { MaxMessages = Min(limits.MaxMessages, MaxMessages) };

    public override string ToString() => $"count ≤ {MaxMessages}";
}
