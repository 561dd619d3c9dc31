using System.Globalization;
using System.Text.RegularExpressions;

namespace StoreSync.Node.Hosting;

/// <summary>One nwaku-style <c>--rate-limit</c> value: <c>[protocol:]volume/period&lt;unit&gt;</c>, e.g. <c>store:100/1s</c>,
/// <c>lightpush:10/1m</c>; without a protocol it applies to every rate-limited protocol.</summary>
/// <remarks>A peer may make <see cref="Volume"/> requests at once, refilled at Volume per <see cref="Period"/> (a token bucket per peer).
/// Protocols: <c>store</c> (alias <c>storev3</c>) and <c>lightpush</c>; nwaku's others (filter, px, storev2) are not served here.</remarks>
public sealed partial record RateLimitSetting(string? Protocol, int Volume, TimeSpan Period)
{
    public const string Store = "store";
    public const string LightPush = "lightpush";

    public double PerSecond => Volume / Period.TotalSeconds;

    [GeneratedRegex(@"^(?:(?<protocol>[a-z0-9]+):)?(?<volume>\d{1,9})/(?<period>\d{1,9})(?<unit>ms|s|m|h)$")]
    private static partial Regex Syntax();

    public static bool TryParse(string text, out RateLimitSetting? setting, out string error)
    {
        setting = null;
        var match = Syntax().Match(text.Trim());
        if (!match.Success)
        {
            error = $"'{text}' is not [protocol:]volume/period<unit> (unit ms, s, m or h), e.g. store:100/1s";
            return false;
        }
        string? protocol = match.Groups["protocol"].Success ? match.Groups["protocol"].Value : null;
        if (protocol == "storev3") protocol = Store;
        if (protocol is not null and not Store and not LightPush)
        {
            error = $"'{text}': protocol '{protocol}' is not rate-limited by this node (store, storev3 or lightpush)";
            return false;
        }
        int volume = int.Parse(match.Groups["volume"].Value, CultureInfo.InvariantCulture);
        long amount = long.Parse(match.Groups["period"].Value, CultureInfo.InvariantCulture);
        var period = match.Groups["unit"].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(amount),
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            _ => TimeSpan.FromHours(amount),
        };
        if (volume < 1 || period <= TimeSpan.Zero)
        {
            error = $"'{text}': volume and period must be positive";
            return false;
        }
        setting = new RateLimitSetting(protocol, volume, period);
        error = "";
        return true;
    }
}
