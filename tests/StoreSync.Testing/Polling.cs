namespace StoreSync.Testing;

/// <summary>Waits for a condition that something running in the background makes true.</summary>
public static class Polling
{
    static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>Returns once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="seconds"/>.</summary>
    public static async Task WaitUntil(Func<bool> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {seconds} s: {what}");
            await Task.Delay(Interval);
        }
    }
}
