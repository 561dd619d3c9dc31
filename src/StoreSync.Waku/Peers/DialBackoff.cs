namespace StoreSync.Waku.Peers;

/// <summary>When a peer whose dials failed may be dialed again: exponential, bounded (nwaku's peer manager:
/// 120 s · 4^(failures − 1), so 120 s, 8 min, 32 min, 2 h 8 min, and no more dials from the fifth failure on).</summary>
/// <remarks>A static node is never given up and waits at most <see cref="StaticCap"/>: the operator asked for it.</remarks>
public sealed record DialBackoff(TimeSpan Initial, int Factor, int MaxFailedAttempts)
{
    public static readonly DialBackoff Default = new(TimeSpan.FromSeconds(120), 4, 5);

    /// <summary>The longest wait of a static node between dials (what the node's static-node loop always waited).</summary>
    public static readonly TimeSpan StaticCap = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait of any peer: the delay before the last attempt allowed, so the bound holds whatever the count.</summary>
    public TimeSpan Cap => Delay(Math.Max(1, MaxFailedAttempts - 1));

    /// <summary>Initial · Factor^(failures − 1); zero before any failure; never above the wait before the last allowed attempt.</summary>
    public TimeSpan Delay(int failures)
    {
        if (failures <= 0) return TimeSpan.Zero;
        int exponent = Math.Min(failures, Math.Max(1, MaxFailedAttempts - 1)) - 1;
        double ticks = Initial.Ticks * Math.Pow(Math.Max(1, Factor), exponent);
        return ticks >= TimeSpan.MaxValue.Ticks / 2 ? TimeSpan.FromTicks(TimeSpan.MaxValue.Ticks / 2) : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>True once a non-static peer failed <see cref="MaxFailedAttempts"/> dials in a row: it is not dialed again (until a
    /// source reports a newer record of it) and is the first the book evicts.</summary>
    public bool GivesUp(int failures, bool isStatic) => !isStatic && failures >= MaxFailedAttempts;

    /// <summary>Whether a dial may start at <paramref name="now"/>.</summary>
    public bool MayDial(int failures, DateTimeOffset? lastFailure, bool isStatic, DateTimeOffset now)
    {
        if (failures <= 0 || lastFailure is null) return true;
        if (GivesUp(failures, isStatic)) return false;
        var wait = Delay(failures);
        if (isStatic && wait > StaticCap) wait = StaticCap;
        return now >= lastFailure.Value + wait;
    }
}
