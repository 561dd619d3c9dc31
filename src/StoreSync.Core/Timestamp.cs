namespace StoreSync.Core;

/// <summary>Waku timestamps: Unix epoch nanoseconds in a signed 64-bit integer.</summary>
public static class Timestamp
{
    public const long NanosPerMillisecond = 1_000_000;
    public const long NanosPerSecond = 1_000_000_000;

    public static long FromDateTimeOffset(DateTimeOffset time) => (time.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;

    public static DateTimeOffset ToDateTimeOffset(long nanos) =>
        new(DateTime.UnixEpoch.Ticks + nanos / 100, TimeSpan.Zero);

    public static long Now(TimeProvider? clock = null) => FromDateTimeOffset((clock ?? TimeProvider.System).GetUtcNow());

    /// <summary>Renders a timestamp for people: ISO-8601 UTC with nanoseconds.</summary>
    public static string Format(long nanos)
    {
        // Every non-negative long of nanoseconds (until 2262) is a valid DateTimeOffset; before 1970 print the number.
        if (nanos < 0) return nanos.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var whole = ToDateTimeOffset(nanos - nanos % NanosPerSecond);
        return $"{whole:yyyy-MM-ddTHH:mm:ss}.{nanos % NanosPerSecond:D9}Z";
    }
}
