using System.Globalization;
using System.Text.RegularExpressions;

namespace StoreSync.Simulations.Scenarios;

/// <summary>Parses the human units of scenario files: durations, byte sizes, bandwidths and rates.</summary>
/// <remarks>Every parser returns null with a reason instead of throwing, so the reader can name the field.</remarks>
internal static partial class Units
{
    [GeneratedRegex(@"^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z/]*)\s*$")]
    private static partial Regex NumberAndUnit();

    static bool Split(string text, out double value, out string unit)
    {
        var m = NumberAndUnit().Match(text);
        value = 0;
        unit = "";
        if (!m.Success) return false;
        value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        unit = m.Groups[2].Value;
        return true;
    }

    const long Nanos = 1, Micros = 1000, Millis = 1_000_000, Second = 1_000_000_000, Minute = 60 * Second, Hour = 60 * Minute, Day = 24 * Hour;

    static readonly Dictionary<string, long> TimeUnits = new(StringComparer.Ordinal)
    {
        ["ns"] = Nanos, ["us"] = Micros, ["µs"] = Micros, ["ms"] = Millis, ["s"] = Second, ["m"] = Minute, ["min"] = Minute,
        ["h"] = Hour, ["d"] = Day, ["w"] = 7 * Day,
    };

    /// <summary>"90s", "5m", "2.5h", "3d", "250ms" or a number of seconds, to nanoseconds.</summary>
    public static long? Duration(string text, out string? error)
    {
        error = null;
        if (!Split(text, out double v, out string unit) || !TimeUnits.TryGetValue(unit == "" ? "s" : unit, out long scale))
        {
            error = $"\"{text}\" is not a duration (give e.g. \"250ms\", \"90s\", \"5m\", \"2h\", \"3d\", \"1w\")";
            return null;
        }
        double nanos = v * scale;
        if (nanos > 1e18) { error = $"\"{text}\" is too long"; return null; }
        return (long)Math.Round(nanos);
    }

    public static long? Duration(double seconds, out string? error)
    {
        error = null;
        if (!double.IsFinite(seconds) || seconds < 0 || seconds > 1e9) { error = $"{seconds} seconds is out of range"; return null; }
        return (long)Math.Round(seconds * Second);
    }

    static readonly Dictionary<string, double> SizeUnits = new(StringComparer.Ordinal)
    {
        [""] = 1, ["B"] = 1, ["kB"] = 1e3, ["KB"] = 1e3, ["MB"] = 1e6, ["KiB"] = 1024, ["MiB"] = 1 << 20,
    };

    /// <summary>"500", "500 B", "2 KiB", "1.5 kB" to bytes.</summary>
    public static double? Size(string text, out string? error) =>
        Scaled(text, SizeUnits, "a size (give bytes, or e.g. \"500 B\", \"2 KiB\", \"1.5 kB\")", out error);

    static double? Scaled(string text, Dictionary<string, double> units, string what, out string? error)
    {
        error = null;
        if (Split(text, out double v, out string unit) && units.TryGetValue(unit, out double scale)) return v * scale;
        error = $"\"{text}\" is not {what}";
        return null;
    }

    static readonly Dictionary<string, double> BandwidthUnits = new(StringComparer.Ordinal)
    {
        ["bit/s"] = 1 / 8.0, ["kbit/s"] = 1e3 / 8, ["Mbit/s"] = 1e6 / 8, ["Gbit/s"] = 1e9 / 8,
        ["bps"] = 1 / 8.0, ["kbps"] = 1e3 / 8, ["Mbps"] = 1e6 / 8, ["Gbps"] = 1e9 / 8,
        ["B/s"] = 1, ["kB/s"] = 1e3, ["KB/s"] = 1e3, ["MB/s"] = 1e6, ["GB/s"] = 1e9, ["KiB/s"] = 1024, ["MiB/s"] = 1 << 20,
    };

    /// <summary>"10 Mbit/s", "2 MB/s", "512 KiB/s" or a number of bytes per second.</summary>
    public static double? Bandwidth(string text, out string? error) =>
        Scaled(text, BandwidthUnits, "a bandwidth (give bytes per second, or e.g. \"10 Mbit/s\", \"2 MB/s\", \"512 KiB/s\")", out error);

    /// <summary>"600/h", "10/min", "0.5/s", "1000/d" to events per second.</summary>
    public static double? Rate(string text, out string? error)
    {
        error = null;
        int slash = text.IndexOf('/');
        if (slash > 0 && Split(text[..slash], out double v, out string none) && none == ""
            && TimeUnits.TryGetValue(text[(slash + 1)..].Trim(), out long per) && per >= Second)
            return v * Second / per;
        error = $"\"{text}\" is not a rate (give e.g. \"600/h\", \"10/min\", \"0.5/s\", \"1000/d\")";
        return null;
    }

    /// <summary>A duration for humans: "250 ms", "42 s", "12.5 min", "3.2 h", "4.1 d".</summary>
    public static string Format(long nanos)
    {
        double s = nanos / 1e9;
        var ci = CultureInfo.InvariantCulture;
        return Math.Abs(s) switch
        {
            < 1 => (s * 1000).ToString("0.#", ci) + " ms",
            < 120 => s.ToString("0.#", ci) + " s",
            < 7200 => (s / 60).ToString("0.#", ci) + " min",
            < 172800 => (s / 3600).ToString("0.#", ci) + " h",
            _ => (s / 86400).ToString("0.##", ci) + " d",
        };
    }
}
