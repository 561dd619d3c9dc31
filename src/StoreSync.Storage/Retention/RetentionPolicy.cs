namespace StoreSync.Storage.Retention;

/// <summary>A retention rule for one scope (as nwaku's size, capacity and time policies): it says what of the scope must go.</summary>
/// <remarks>
/// A policy only states a goal from the scope's counters and the clock; the <see cref="Evictor"/> meets it by deleting the
/// scope's oldest messages first, in (timestamp, hash) order. Several policies on one scope combine: a message goes while any
/// of them still wants something gone.
/// </remarks>
public abstract class RetentionPolicy
{
    /// <summary>What must go from a scope holding <paramref name="figures"/> at <paramref name="now"/>.</summary>
    public abstract EvictionGoal Goal(TopicFigures figures, DateTimeOffset now);

    /// <summary>Folds this policy's limit into <paramref name="limits"/> (the tighter one wins), as recorded with a horizon.</summary>
    public abstract RetentionLimits Restrict(RetentionLimits limits);

    private protected static long? Min(long? a, long b) => a is { } x && x < b ? x : b;
}
