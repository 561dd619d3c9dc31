using System.Globalization;
using System.Text.Json;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Waku.Enr;

namespace StoreSync.Waku.Peers;

/// <summary>The peer book in the data folder (<c>peers.json</c>), so a restarted node redials the peers it knew without any
/// bootstrap: written atomically (temporary file, fsync, rename), read back leniently (a bad entry is skipped, a damaged file
/// is an empty book).</summary>
/// <remarks>A file of its own rather than a column of the message store: the book is small (at most
/// <see cref="PeerBook.DefaultCapacity"/> entries), rewritten whole, readable by an operator, and may be deleted to forget
/// every peer without touching the messages.</remarks>
public static class PeerBookFile
{
    public const string FileName = "peers.json";
    const int Format = 1;

    /// <summary>Largest file read back: a thousand peers take a few hundred KB; a damaged file is not read without bound.</summary>
    const int MaxFileBytes = 8 << 20;

    public static void Save(string path, IEnumerable<PeerBookEntry> entries)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true }))
            {
                json.WriteStartObject();
                json.WriteNumber("format", Format);
                json.WriteStartArray("peers");
                foreach (var e in entries.Where(e => e.Addresses.Count > 0)) Write(json, e);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    static void Write(Utf8JsonWriter json, PeerBookEntry e)
    {
        json.WriteStartObject();
        json.WriteString("id", e.Id.ToString());
        json.WriteStartArray("addresses");
        foreach (var a in e.Addresses) json.WriteStringValue(a.ToString());
        json.WriteEndArray();
        json.WriteNumber("sources", (int)e.Sources);
        if (e.RecordCapabilities is { } c) json.WriteNumber("capabilities", (byte)c);
        if (e.Shards is { } s)
        {
            json.WriteNumber("cluster", s.ClusterId);
            json.WriteStartArray("shards");
            foreach (var shard in s.Shards) json.WriteNumberValue(shard);
            json.WriteEndArray();
        }
        json.WriteStartArray("protocols");
        foreach (var p in e.Protocols) json.WriteStringValue(p);
        json.WriteEndArray();
        if (e.Enr is not null) json.WriteString("enr", e.Enr);
        json.WriteNumber("enrSeq", e.EnrSeq);
        json.WriteNumber("failures", e.Failures);
        if (e.LastFailure is { } f) json.WriteNumber("lastFailureMs", f.ToUnixTimeMilliseconds());
        if (e.LastConnected is { } l) json.WriteNumber("lastConnectedMs", l.ToUnixTimeMilliseconds());
        json.WriteNumber("lastSeenMs", e.LastSeen.ToUnixTimeMilliseconds());
        json.WriteEndObject();
    }

    /// <summary>The entries of the file; empty when there is none or it is damaged, without the entries that do not parse.</summary>
    public static IReadOnlyList<PeerBookEntry> Load(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxFileBytes) return [];
            using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 8 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format) || format.GetInt32() != Format) return [];
            var entries = new List<PeerBookEntry>();
            foreach (var peer in root.GetProperty("peers").EnumerateArray())
                if (TryRead(peer, out var entry)) entries.Add(entry!);
            return entries;
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or FormatException or KeyNotFoundException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    static bool TryRead(JsonElement peer, out PeerBookEntry? entry)
    {
        entry = null;
        try
        {
            var id = PeerId.Parse(peer.GetProperty("id").GetString()!);
            var addresses = new List<Multiaddr>();
            foreach (var a in peer.GetProperty("addresses").EnumerateArray())
                if (Multiaddr.TryParse(a.GetString() ?? "", out var address)) addresses.Add(address!);
            RelayShards? shards = peer.TryGetProperty("cluster", out var cluster)
                ? RelayShards.Create(cluster.GetUInt16(), peer.GetProperty("shards").EnumerateArray().Select(s => s.GetUInt16()))
                : null;
            entry = new PeerBookEntry(id, addresses, (PeerSources)peer.GetProperty("sources").GetInt32(),
                peer.TryGetProperty("capabilities", out var c) ? (WakuCapabilities)c.GetByte() : null, shards,
                [.. peer.GetProperty("protocols").EnumerateArray().Select(p => p.GetString()!).Where(p => p is not null)],
                peer.TryGetProperty("enr", out var enr) ? enr.GetString() : null,
                peer.GetProperty("enrSeq").GetUInt64(),
                Math.Max(0, peer.GetProperty("failures").GetInt32()),
                Time(peer, "lastFailureMs"), Time(peer, "lastConnectedMs"), Time(peer, "lastSeenMs") ?? DateTimeOffset.UnixEpoch);
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    static DateTimeOffset? Time(JsonElement peer, string name) =>
        peer.TryGetProperty(name, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms.GetInt64()) : null;
}
