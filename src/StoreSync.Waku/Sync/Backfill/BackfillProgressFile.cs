using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace StoreSync.Waku.Sync.Backfill;

/// <summary>A swarm backfill's progress as persisted in the data folder, so a node killed mid-way resumes where it was: the
/// slices, which peer has done which, and the totals fetched (spec/sync.md §5.7).</summary>
/// <remarks>
/// A small text file per scope (<c>backfill/&lt;hash of the scope&gt;.progress</c>), rewritten atomically (temporary file, fsync,
/// rename) after each slice a peer completes. A slice is marked done only once its messages are written to the store, so a
/// resumed backfill never skips what it lacks; a slice not marked is reconciled again, which fetches only what is still missing
/// (what had arrived is stored, and a session announces only what the store lacks).
/// </remarks>
public sealed class BackfillProgressFile
{
    const string Magic = "storesync-backfill 1";

    /// <summary>Largest file read back (a few hundred slices and peers take a few KB): a damaged file is not read without bound.</summary>
    const int MaxFileBytes = 1 << 20;

    public required string Scope { get; init; }

    /// <summary>The end of the range the slices cover (ns); a resumed backfill adds one slice from here to its new end.</summary>
    public required long End { get; init; }

    public required IReadOnlyList<BackfillSlice> Slices { get; init; }

    /// <summary>Per peer (its id as text), the indexes of the slices it has done.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<int>> Done { get; init; }

    /// <summary>Messages and bytes fetched by all runs so far.</summary>
    public long Messages { get; init; }

    /// <inheritdoc cref="Messages"/>
    public long Bytes { get; init; }

    /// <summary>The file of <paramref name="scope"/> under <paramref name="directory"/>.</summary>
    public static string PathOf(string directory, string scope) =>
        Path.Combine(directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(scope)))[..16] + ".progress");

    /// <summary>Reads the scope's file; null when there is none, or it is damaged or of another scope (the backfill starts afresh).</summary>
    public static BackfillProgressFile? TryLoad(string directory, string scope)
    {
        var path = PathOf(directory, scope);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxFileBytes) return null;
            return Parse(File.ReadAllLines(path, Encoding.UTF8), scope);
        }
        catch (Exception e) when (e is IOException or FormatException or OverflowException or IndexOutOfRangeException or ArgumentException)
        {
            return null;
        }
    }

    static BackfillProgressFile? Parse(string[] lines, string scope)
    {
        if (lines.Length < 3 || lines[0] != Magic || lines[1] != "scope " + scope) return null;
        long end = 0, messages = 0, bytes = 0;
        var slices = new List<BackfillSlice>();
        var done = new Dictionary<string, IReadOnlyList<int>>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(2))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 0) continue;
            switch (f[0])
            {
                case "end": end = long.Parse(f[1], CultureInfo.InvariantCulture); break;
                case "slice": slices.Add(new BackfillSlice(long.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture))); break;
                case "done": done[f[1]] = [.. f.Skip(2).Select(x => int.Parse(x, CultureInfo.InvariantCulture))]; break;
                case "fetched": messages = long.Parse(f[1], CultureInfo.InvariantCulture); bytes = long.Parse(f[2], CultureInfo.InvariantCulture); break;
                default: return null;
            }
        }
        if (done.Values.SelectMany(d => d).Any(i => i < 0 || i >= slices.Count)) return null;
        try { _ = new BackfillPlan<string>(slices); }
        catch (ArgumentException) { return null; }
        return new BackfillProgressFile { Scope = scope, End = end, Slices = slices, Done = done, Messages = messages, Bytes = bytes };
    }

    /// <summary>Writes the file atomically: a crash leaves the old file or the new one, never a torn one.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var text = new StringBuilder();
        text.Append(Magic).Append('\n').Append("scope ").Append(Scope).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"end {End}\n");
        foreach (var s in Slices) text.Append(CultureInfo.InvariantCulture, $"slice {s.From} {s.To}\n");
        foreach (var (peer, slices) in Done.OrderBy(d => d.Key, StringComparer.Ordinal))
            text.Append("done ").Append(peer).Append(string.Concat(slices.Select(i => " " + i.ToString(CultureInfo.InvariantCulture)))).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"fetched {Messages} {Bytes}\n");
        var path = PathOf(directory, Scope);
        var temporary = path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Encoding.UTF8.GetBytes(text.ToString()));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Removes the scope's file (the backfill finished: the next one starts afresh, in sync it costs a round trip per slice).</summary>
    public static void Delete(string directory, string scope)
    {
        var path = PathOf(directory, scope);
        if (File.Exists(path)) File.Delete(path);
    }
}
