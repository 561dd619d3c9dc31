namespace StoreSync.Storage.Retention;

/// <summary>
/// Limits of one scope and the global byte limit, as recorded with a horizon; null = no such limit. A configuration that is
/// looser in any of them than the recorded ones clears the horizon so that backfill may fetch what now fits.
/// </summary>
public readonly record struct RetentionLimits(long? MaxBytes, long? MaxMessages, TimeSpan? MaxAge, long? GlobalMaxBytes)
{
    /// <summary>No limit at all (a horizon set this way is never cleared by a configuration change).</summary>
    public static RetentionLimits None => default;

    /// <summary>True when any of these limits allows more than the same limit of <paramref name="recorded"/> (null = unlimited).</summary>
    public bool IsLooserThan(in RetentionLimits recorded) =>
        Looser(MaxBytes, recorded.MaxBytes) || Looser(MaxMessages, recorded.MaxMessages) ||
        Looser(MaxAge?.Ticks, recorded.MaxAge?.Ticks) || Looser(GlobalMaxBytes, recorded.GlobalMaxBytes);

    static bool Looser(long? now, long? then) => then is { } t && (now is not { } n || n > t);
}
