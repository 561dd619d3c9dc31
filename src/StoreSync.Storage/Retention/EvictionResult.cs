namespace StoreSync.Storage.Retention;

/// <summary>How far a running eviction or scope deletion is: reported after every committed chunk.</summary>
public readonly record struct EvictionProgress(long Messages, long Bytes, int Chunks, TimeSpan Elapsed);

/// <summary>What an eviction run (or one chunk, or a scope deletion) deleted, in total and per scope id.</summary>
public sealed record EvictionResult(long Messages, long Bytes, int Chunks, TimeSpan Elapsed, IReadOnlyDictionary<string, TopicFigures> ByScope)
{
    public static EvictionResult Nothing { get; } = new(0, 0, 0, TimeSpan.Zero, new Dictionary<string, TopicFigures>());
}
