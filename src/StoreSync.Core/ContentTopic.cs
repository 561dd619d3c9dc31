namespace StoreSync.Core;

/// <summary>Validation of content topics: <c>/{application}/{version}/{topic-name}/{encoding}</c> (23/WAKU2-TOPICS).</summary>
/// <remarks>An optional leading generation segment (<c>/{generation}/{application}/...</c>, used by autosharding) is accepted.</remarks>
public static class ContentTopic
{
    public const int MaxLength = 1024;

    public static bool TryValidate(string? topic, out string error)
    {
        error = "";
        if (string.IsNullOrEmpty(topic)) { error = "content topic is empty"; return false; }
        if (topic.Length > MaxLength) { error = $"content topic is longer than {MaxLength} characters"; return false; }
        if (topic[0] != '/')
        {
            error = $"content topic '{Shorten(topic)}' must start with '/' (expected /application/version/name/encoding)";
            return false;
        }
        var parts = topic[1..].Split('/');
        if (parts.Length is not (4 or 5))
        {
            error = $"content topic '{Shorten(topic)}' has {parts.Length} segments; expected /application/version/name/encoding";
            return false;
        }
        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i].Length == 0)
            {
                error = $"content topic '{Shorten(topic)}' has an empty segment {i + 1}";
                return false;
            }
            foreach (char c in parts[i])
            {
                if (char.IsControl(c) || char.IsWhiteSpace(c))
                {
                    error = $"content topic '{Shorten(topic)}' contains whitespace or a control character";
                    return false;
                }
            }
        }
        return true;
    }

    public static void Validate(string? topic)
    {
        if (!TryValidate(topic, out var error)) throw new MessageValidationException(error);
    }

    internal static string Shorten(string s) => s.Length <= 80 ? s : s[..77] + "...";
}
