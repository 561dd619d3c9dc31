namespace StoreSync.Testing;

/// <summary>Shrink candidates for generated cases made of sequences, so a property failure reduces to a short case.</summary>
public static class Shrinks
{
    /// <summary>Shorter copies of <paramref name="items"/>: each half, then each copy with one element left out.</summary>
    public static IEnumerable<T[]> Removals<T>(IReadOnlyList<T> items)
    {
        if (items.Count == 0) yield break;
        if (items.Count > 1)
        {
            yield return items.Take(items.Count / 2).ToArray();
            yield return items.Skip(items.Count / 2).ToArray();
        }
        for (int i = 0; i < items.Count; i++)
            yield return [.. items.Take(i), .. items.Skip(i + 1)];
    }
}
