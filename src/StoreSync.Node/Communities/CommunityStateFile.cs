using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using StoreSync.Waku.Communities;

namespace StoreSync.Node.Communities;

/// <summary>The live community state kept in the data folder (<c>communities.json</c>), written atomically (temporary file, fsync, rename).</summary>
/// <remarks>
/// Each community and the settings carry a <c>seed</c>: the hash of the configuration-file definition in force when the state
/// was last written (null when the configuration file does not name it). At start the file's state is kept where the
/// configuration is unchanged since, and the configuration's is taken where it changed: whichever changed last wins.
/// Owners' control messages are kept as their signed payloads and verified again when read.
/// </remarks>
public sealed class CommunityStateFile
{
    public const string FileName = "communities.json";

    /// <summary>Refuse to read a state file larger than this: 256 communities and their owners' member lists fit in far less.</summary>
    public const long MaxFileBytes = 64L << 20;

    public int Version { get; set; } = 1;
    public StoredSettings Settings { get; set; } = new();
    public List<StoredCommunity> Communities { get; set; } = [];

    /// <summary>Communities removed live while the configuration file named them (so that they stay removed).</summary>
    public List<RemovedCommunity> Removed { get; set; } = [];

    /// <summary>Owners' newest control messages, as hex payloads.</summary>
    public List<string> Controls { get; set; } = [];

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Reads the file, or null if there is none.</summary>
    /// <exception cref="InvalidDataException">The file is not a state file this version reads (it is left untouched).</exception>
    public static CommunityStateFile? Read(string path)
    {
        if (!File.Exists(path)) return null;
        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes) throw new InvalidDataException($"{path} is {length} bytes, more than a community state file can be ({MaxFileBytes})");
        try
        {
            var state = JsonSerializer.Deserialize<CommunityStateFile>(File.ReadAllBytes(path), Json)
                ?? throw new InvalidDataException($"{path} holds null");
            if (state.Version != 1) throw new InvalidDataException($"{path} has version {state.Version}; this StoreSync reads version 1");
            return state;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid community state file: {e.Message}", e);
        }
    }

    /// <summary>Writes the file so that a crash leaves either the old or the new state, never a mix.</summary>
    public void Write(string path)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, this, Json);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The seed of a configuration-file definition: SHA-256 of its JSON form, hex.</summary>
    public static string SeedOf(CommunityDefinition configured) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(configured, Json)));

    /// <inheritdoc cref="SeedOf(CommunityDefinition)"/>
    public static string SeedOf(bool? storeUnlisted, long maxStoreBytes) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(new { storeUnlisted, maxStoreBytes }, Json)));
}

/// <summary>A community in the state file.</summary>
public sealed class StoredCommunity
{
    public required CommunityDefinition Definition { get; set; }
    public string? Seed { get; set; }
}

/// <summary>A configured community that was removed live.</summary>
public sealed class RemovedCommunity
{
    public required string Name { get; set; }
    public required string Seed { get; set; }
}

/// <summary>The global settings in the state file.</summary>
public sealed class StoredSettings
{
    public bool? StoreUnlisted { get; set; }
    public long MaxStoreBytes { get; set; }
    public string? Seed { get; set; }
}
