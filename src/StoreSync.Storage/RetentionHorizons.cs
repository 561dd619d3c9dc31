using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using RocksDbSharp;
using StoreSync.Core;
using StoreSync.Storage.Retention;

namespace StoreSync.Storage;

/// <summary>Retention horizons by scope id, in memory and in <c>meta</c>, written in the same batch as the eviction that raises them.</summary>
/// <remarks>
/// Key <c>h</c> ‖ UTF-8 scope id; value 72 bytes: timestamp (8, order-preserving as in the index keys) ‖ hash (32) ‖ the
/// limits in force: scope max bytes, scope max messages, max age in nanoseconds, global max bytes (each i64 BE, −1 = none).
/// </remarks>
internal sealed class RetentionHorizons
{
    const byte Prefix = (byte)'h';
    const int ValueLength = 8 + MessageHash.Length + 4 * 8;

    /// <summary>Longest scope id, in UTF-8 bytes: keeps meta keys small and bounds what a caller can make the store write.</summary>
    public const int MaxScopeIdBytes = 256;

    readonly ConcurrentDictionary<string, RetentionHorizon> _horizons = new(StringComparer.Ordinal);

    public static RetentionHorizons Load(RocksDb db, ColumnFamilyHandle meta)
    {
        var horizons = new RetentionHorizons();
        using var it = db.NewIterator(meta);
        for (it.Seek([Prefix]); it.Valid(); it.Next())
        {
            var key = it.GetKeySpan();
            if (key.Length == 0 || key[0] != Prefix) break;
            string id = Encoding.UTF8.GetString(key[1..]);
            horizons._horizons[id] = Decode(it.GetValueSpan(), id);
        }
        return horizons;
    }

    /// <exception cref="ArgumentException">The id is empty or longer than <see cref="MaxScopeIdBytes"/> UTF-8 bytes.</exception>
    public static void CheckScopeId(string scopeId)
    {
        ArgumentNullException.ThrowIfNull(scopeId);
        if (scopeId.Length == 0) throw new ArgumentException("a retention scope id must not be empty", nameof(scopeId));
        if (Encoding.UTF8.GetByteCount(scopeId) > MaxScopeIdBytes)
            throw new ArgumentException($"a retention scope id is at most {MaxScopeIdBytes} UTF-8 bytes", nameof(scopeId));
    }

    public RetentionHorizon? Get(string scopeId) => _horizons.TryGetValue(scopeId, out var h) ? h : null;

    public IReadOnlyDictionary<string, RetentionHorizon> Snapshot() => new Dictionary<string, RetentionHorizon>(_horizons, StringComparer.Ordinal);

    /// <summary>Adds the new horizons (null = delete) to <paramref name="batch"/>; <see cref="Apply"/> them once it is written.</summary>
    public IReadOnlyDictionary<string, RetentionHorizon?> Stage(IReadOnlyDictionary<string, RetentionHorizon?> updates, WriteBatch batch, ColumnFamilyHandle meta)
    {
        Span<byte> value = stackalloc byte[ValueLength];
        foreach (var (id, horizon) in updates)
        {
            var key = Key(id);
            if (horizon is not { } h) { batch.Delete(key, meta); continue; }
            Encode(h, value);
            batch.Put(key, value, meta);
        }
        return updates;
    }

    public void Apply(IReadOnlyDictionary<string, RetentionHorizon?> staged)
    {
        foreach (var (id, horizon) in staged)
        {
            if (horizon is { } h) _horizons[id] = h;
            else _horizons.TryRemove(id, out _);
        }
    }

    internal static byte[] Key(string scopeId)
    {
        var key = new byte[1 + Encoding.UTF8.GetByteCount(scopeId)];
        key[0] = Prefix;
        Encoding.UTF8.GetBytes(scopeId, key.AsSpan(1));
        return key;
    }

    internal static void Encode(in RetentionHorizon h, Span<byte> value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(value, StoreKeys.EncodeTimestamp(h.Timestamp));
        h.Hash.WriteTo(value[8..]);
        var l = h.Limits;
        BinaryPrimitives.WriteInt64BigEndian(value[40..], l.MaxBytes ?? -1);
        BinaryPrimitives.WriteInt64BigEndian(value[48..], l.MaxMessages ?? -1);
        BinaryPrimitives.WriteInt64BigEndian(value[56..], l.MaxAge is { } age ? age.Ticks * 100 : -1);
        BinaryPrimitives.WriteInt64BigEndian(value[64..], l.GlobalMaxBytes ?? -1);
    }

    static RetentionHorizon Decode(ReadOnlySpan<byte> value, string id)
    {
        if (value.Length != ValueLength) throw new StoreCorruptionException($"retention horizon of scope '{id}' is {value.Length} bytes, expected {ValueLength}");
        static long? Optional(long v) => v < 0 ? null : v;
        long ageNs = BinaryPrimitives.ReadInt64BigEndian(value[56..]);
        var limits = new RetentionLimits(Optional(BinaryPrimitives.ReadInt64BigEndian(value[40..])), Optional(BinaryPrimitives.ReadInt64BigEndian(value[48..])),
            ageNs < 0 ? null : TimeSpan.FromTicks(ageNs / 100), Optional(BinaryPrimitives.ReadInt64BigEndian(value[64..])));
        return new RetentionHorizon(StoreKeys.DecodeTimestamp(value), MessageHash.Read(value[8..40]), limits);
    }
}
