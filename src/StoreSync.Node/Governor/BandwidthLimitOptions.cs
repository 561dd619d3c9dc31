namespace StoreSync.Node.Governor;

/// <summary>Upload and download limits of one scope, in bytes per second; 0 = no limit of its own (the global one still applies).</summary>
public sealed class BandwidthLimitOptions
{
    public long UploadBytesPerSecond { get; set; }
    public long DownloadBytesPerSecond { get; set; }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        Check(nameof(UploadBytesPerSecond), UploadBytesPerSecond, errors);
        Check(nameof(DownloadBytesPerSecond), DownloadBytesPerSecond, errors);
        return errors;
    }

    static void Check(string name, long value, List<string> errors)
    {
        if (value == 0) return;
        if (value is < GovernorLimits.MinBytesPerSecond or > GovernorLimits.MaxBytesPerSecond)
            errors.Add($"{name} {value} is outside {GovernorLimits.MinBytesPerSecond}..{GovernorLimits.MaxBytesPerSecond} (0 = unlimited)");
    }
}
