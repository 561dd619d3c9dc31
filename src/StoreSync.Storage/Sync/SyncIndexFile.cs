using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using StoreSync.Reconciliation;

namespace StoreSync.Storage.Sync;

/// <summary>A sync index saved at a clean shutdown: its scope, the store's sequence number then, and the fingerprint index.</summary>
/// <remarks>
/// Layout (spec/sync.md §5.2): "SSYI", u32 version = 1, u64 store sequence number, u16 length + UTF-8 pubsub topic, u16 content
/// topic count, each u16 length + UTF-8, i64 item count, the <see cref="FingerprintIndex.Save"/> bytes, then the SHA-256 of
/// everything before it (integers little-endian). Valid only for a store whose <see cref="MessageStore.LastSequenceNumber"/>
/// is still that number: any write since, including one after the save and before the close, invalidates it.
/// </remarks>
public sealed record SyncIndexFile(SyncScope Scope, ulong Sequence, long Count, ReadOnlyMemory<byte> Index)
{
    /// <summary>A larger file is not read (a 10M-message index is ~12 MB; 16 bytes per message would be 160 MB).</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>The file name extension of saved indexes.</summary>
    public const string Extension = ".fpi";

    const uint Magic = 0x49595353; // "SSYI"
    const uint Version = 1;

    /// <summary>The file of one scope in <paramref name="directory"/>: named by a hash of the scope, so any topic name is a valid file name.</summary>
    public static string PathOf(string directory, SyncScope scope)
    {
        var key = Encoding.UTF8.GetBytes(string.Join('\n', [.. scope.PubsubTopics, "", .. scope.ContentTopics.Order(StringComparer.Ordinal)]));
        return Path.Combine(directory, Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 16)) + Extension);
    }

    /// <summary>Writes the file atomically (a temporary file, flushed to disk, then renamed over the old one).</summary>
    public static void Write(string path, SyncScope scope, ulong sequence, long count, Action<Stream> writeIndex)
    {
        var body = new MemoryStream();
        Span<byte> word = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(word, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(word[4..], Version);
        body.Write(word);
        BinaryPrimitives.WriteUInt64LittleEndian(word, sequence);
        body.Write(word);
        WriteString(body, scope.PubsubTopics.Single());
        var contents = scope.ContentTopics.Order(StringComparer.Ordinal).ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(word, checked((ushort)contents.Length));
        body.Write(word[..2]);
        foreach (var c in contents) WriteString(body, c);
        BinaryPrimitives.WriteInt64LittleEndian(word, count);
        body.Write(word);
        writeIndex(body);
        body.Write(SHA256.HashData(body.GetBuffer().AsSpan(0, (int)body.Length)));

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(body.GetBuffer().AsSpan(0, (int)body.Length));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    static void WriteString(Stream s, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)bytes.Length));
        s.Write(length);
        s.Write(bytes);
    }

    /// <summary>Reads and checks a file; null when there is none.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, too large, altered (checksum), of another version or format.</exception>
    public static SyncIndexFile? Read(string path)
    {
        if (!File.Exists(path)) return null;
        long length = new FileInfo(path).Length;
        if (length > MaxFileBytes) throw new InvalidDataException($"{path}: {length} bytes, more than {MaxFileBytes}");
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8 + 8 + 2 + 2 + 8 + 32) throw new InvalidDataException($"{path}: truncated ({bytes.Length} bytes)");
        var body = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
            throw new InvalidDataException($"{path}: checksum mismatch (truncated or altered)");
        if (BinaryPrimitives.ReadUInt32LittleEndian(body) != Magic) throw new InvalidDataException($"{path}: not a sync index file");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        if (version != Version) throw new InvalidDataException($"{path}: version {version}, this StoreSync reads version {Version}");
        int at = 8;
        ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(Take(body, ref at, 8));
        string pubsub = ReadString(body, ref at);
        int contentCount = BinaryPrimitives.ReadUInt16LittleEndian(Take(body, ref at, 2));
        var contents = new string[contentCount];
        for (int i = 0; i < contentCount; i++) contents[i] = ReadString(body, ref at);
        long count = BinaryPrimitives.ReadInt64LittleEndian(Take(body, ref at, 8));
        if (count < 0) throw new InvalidDataException($"{path}: negative item count");
        return new SyncIndexFile(new SyncScope([pubsub], contents), sequence, count, bytes.AsMemory(at, body.Length - at));
    }

    static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> body, ref int at, int length)
    {
        if (body.Length - at < length) throw new InvalidDataException("sync index file: truncated header");
        var slice = body.Slice(at, length);
        at += length;
        return slice;
    }

    static string ReadString(ReadOnlySpan<byte> body, ref int at)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(Take(body, ref at, 2));
        return Encoding.UTF8.GetString(Take(body, ref at, length));
    }

    /// <summary>True when this file was saved for exactly <paramref name="scope"/> (content topics in any order).</summary>
    public bool IsFor(SyncScope scope) =>
        Scope.PubsubTopics.SequenceEqual(scope.PubsubTopics, StringComparer.Ordinal) &&
        Scope.ContentTopics.Order(StringComparer.Ordinal).SequenceEqual(scope.ContentTopics.Order(StringComparer.Ordinal), StringComparer.Ordinal);
}
