using System.Text.Json;
using Microsoft.Extensions.Logging;
using StoreSync.Node.Hosting;

namespace StoreSync.Node.Governor;

/// <summary>Limits changed live (REST, dashboard), persisted in <c>DATA-DIR/bandwidth.json</c> and put in force at the next start.</summary>
/// <remarks>
/// The file keeps, beside each live value, the configured value it replaced. At start a live value stays in force only while
/// the configuration still says what it said then: an operator who edits the configuration afterwards gets the new setting
/// (whichever changed last wins). Written to a temporary file and renamed, so a crash leaves the old or the new file.
/// </remarks>
public sealed class BandwidthSettings(NodeOptions options, ResourceGovernor governor, ILogger<BandwidthSettings> logger)
{
    public const string FileName = "bandwidth.json";
    const int MaxFileBytes = 1 << 20;
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    readonly Lock _lock = new();
    StateFile _state = new();

    public string FilePath => Path.Combine(Path.GetFullPath(options.DataDir), FileName);

    /// <summary>Reads the file (if any) and applies the live values that still override the configuration.</summary>
    public void Load()
    {
        lock (_lock)
        {
            if (!File.Exists(FilePath)) return;
            var info = new FileInfo(FilePath);
            if (info.Length > MaxFileBytes) throw new InvalidDataException($"{FilePath} is {info.Length} bytes; at most {MaxFileBytes} expected");
            StateFile? state;
            try { state = JsonSerializer.Deserialize<StateFile>(File.ReadAllBytes(FilePath)); }
            catch (JsonException e) { throw new InvalidDataException($"{FilePath} is not valid: {e.Message}", e); }
            _state = state ?? new StateFile();
            var kept = new List<Entry>();
            foreach (var entry in _state.Entries)
            {
                var configured = Configured(entry.Community);
                if (!Same(configured, entry.Configured))
                {
                    logger.LogInformation("Bandwidth limits of {Scope}: the configuration changed since they were set live; the configuration applies", entry.Community ?? "the node");
                    continue;
                }
                var errors = entry.Live.Validate();
                if (errors.Count > 0) throw new InvalidDataException($"{FilePath}: {entry.Community ?? "global"}: {string.Join("; ", errors)}");
                governor.SetLimits(entry.Community, entry.Live);
                kept.Add(entry);
            }
            _state.Entries = kept;
        }
    }

    /// <summary>Changes the limits of the node (null) or a community, persists them, then puts them in force.</summary>
    /// <exception cref="ArgumentException">A limit is out of range.</exception>
    public void Set(string? community, BandwidthLimitOptions limits)
    {
        var errors = limits.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
        lock (_lock)
        {
            _state.Entries.RemoveAll(e => e.Community == community);
            _state.Entries.Add(new Entry { Community = community, Live = limits, Configured = Configured(community) });
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            var temp = FilePath + ".tmp";
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(_state, Json));
            File.Move(temp, FilePath, overwrite: true);
            governor.SetLimits(community, limits);
        }
    }

    BandwidthLimitOptions Configured(string? community) => community is null
        ? new BandwidthLimitOptions { UploadBytesPerSecond = options.UploadBytesPerSecond, DownloadBytesPerSecond = options.DownloadBytesPerSecond }
        : options.CommunityBandwidth.GetValueOrDefault(community) ?? new BandwidthLimitOptions();

    static bool Same(BandwidthLimitOptions a, BandwidthLimitOptions? b) =>
        b is not null && a.UploadBytesPerSecond == b.UploadBytesPerSecond && a.DownloadBytesPerSecond == b.DownloadBytesPerSecond;

    sealed class StateFile
    {
        public int Version { get; set; } = 1;
        public List<Entry> Entries { get; set; } = [];
    }

    sealed class Entry
    {
        /// <summary>null = the node's global limits.</summary>
        public string? Community { get; set; }
        public BandwidthLimitOptions Live { get; set; } = new();
        public BandwidthLimitOptions? Configured { get; set; }
    }
}
