namespace StoreSync.Storage.Retention;

/// <summary>
/// What eviction must free from one scope, oldest messages first: at least <see cref="Bytes"/> bytes and <see cref="Messages"/>
/// messages, and every message older than <see cref="OlderThan"/> (a timestamp in ns; <see cref="long.MinValue"/> = none).
/// </summary>
public readonly record struct EvictionGoal(long Bytes, long Messages, long OlderThan)
{
    public static EvictionGoal Nothing => new(0, 0, long.MinValue);

    /// <summary>True when this goal needs anything gone whatever the messages' timestamps (decidable from the counters alone).</summary>
    public bool WantsByCount => Bytes > 0 || Messages > 0;

    /// <summary>Whether a message with <paramref name="timestamp"/>, the oldest left, must still go after freeing what is given.</summary>
    public bool Wants(long freedBytes, long freedMessages, long timestamp) => freedBytes < Bytes || freedMessages < Messages || timestamp < OlderThan;

    public static EvictionGoal operator |(EvictionGoal a, EvictionGoal b) =>
        new(Math.Max(a.Bytes, b.Bytes), Math.Max(a.Messages, b.Messages), Math.Max(a.OlderThan, b.OlderThan));
}
