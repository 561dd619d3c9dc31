using System.CommandLine;
using System.Globalization;
using StoreSync.Core;

namespace StoreSync.Node.Cli;

/// <summary>Options shared by every command, and parsers for values people type.</summary>
internal static class CliOptions
{
    public static readonly Option<DirectoryInfo> DataDir = new("--data-dir", "-d")
    {
        Description = "Folder of the RocksDB store (created if missing)",
        DefaultValueFactory = _ => new DirectoryInfo("data"),
        Recursive = true,
    };

    /// <summary>Parses a time given as integer nanoseconds since the Unix epoch or as an ISO-8601 date/time (UTC unless an offset is given).</summary>
    public static long ParseTime(string text, string optionName)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long nanos)) return nanos;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            return Timestamp.FromDateTimeOffset(time);
        throw new CliUsageException($"{optionName}: '{text}' is neither nanoseconds since the epoch nor an ISO-8601 time (e.g. 2026-11-24T08:00:00Z)");
    }
}

/// <summary>A command line that cannot be acted on; reported with exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
