namespace StoreSync.Libp2p.Multiformats;

/// <summary>The Try- form of a parser whose only failure mode is <see cref="FormatException"/>.</summary>
internal static class TryParse
{
    public static bool With<T>(Func<string, T> parse, string text, out T? value) where T : class
    {
        try
        {
            value = parse(text);
            return true;
        }
        catch (FormatException)
        {
            value = null;
            return false;
        }
    }
}
