using System.Buffers.Binary;
using System.Numerics;

namespace StoreSync.Libp2p.Pubsub;

/// <summary>
/// The ids of messages seen in the last seen-TTL (gossipsub's seen cache / timecache), bounded in entries and memory.
/// </summary>
/// <remarks>
/// At 10,000 messages/s and a 2-minute TTL the cache holds 1.2 million ids, so it keeps no ids, only a 64-bit keyed
/// hash of each: an open-addressing table of hashes (linear probing, backward-shift deletion, load ≤ 3/4) and a ring
/// of (hash, expiry second) in insertion order. About 25 bytes per entry: 1.25 million entries ≈ 30 MiB. The hash is
/// SipHash-2-4 under a random key of the process, so a peer cannot craft ids that collide with others'; an accidental
/// collision (≈ n²/2⁶⁵) would drop one message as a duplicate. Not thread-safe (the router's lock).
/// </remarks>
internal sealed class SeenCache
{
    readonly int _capacity;
    readonly long _ttlMs;
    ulong[] _table;
    int _mask;
    int _count;
    ulong[] _ringKeys;
    uint[] _ringExpirySeconds;
    int _head;
    int _ringCount;

    public SeenCache(int capacity, TimeSpan ttl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _ttlMs = (long)ttl.TotalMilliseconds;
        _table = new ulong[1024];
        _mask = _table.Length - 1;
        // Both grow with use (the ring up to the capacity), so an idle router holds a few KiB, not 32 MiB.
        _ringKeys = new ulong[Math.Min(capacity, 1024)];
        _ringExpirySeconds = new uint[_ringKeys.Length];
    }

    public int Count => _count;

    /// <summary>Bytes held by the table and the ring.</summary>
    public long Bytes => (long)_table.Length * sizeof(ulong) + (long)_ringKeys.Length * (sizeof(ulong) + sizeof(uint));

    /// <summary>The keyed 64-bit hash the cache stores for an id (never 0, the empty slot): SipHash-2-4 under the process's
    /// random 128-bit key.</summary>
    /// <remarks>Two <see cref="HashCode"/>s side by side were used before: they share three of xxHash32's four lanes, so the
    /// pair had about 36 bits of entropy, not 64 (380 collisions among 4 million random ids), enough at 10,000 messages/s
    /// to drop a fresh message as a duplicate every few seconds.</remarks>
    public static ulong KeyOf(ReadOnlySpan<byte> id)
    {
        ulong key = SipHash24(SecretKey0, SecretKey1, id);
        return key == 0 ? 1 : key;
    }

    static readonly ulong SecretKey0 = RandomUInt64(), SecretKey1 = RandomUInt64();

    static ulong RandomUInt64()
    {
        Span<byte> bytes = stackalloc byte[8];
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    /// <summary>SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012) of <paramref name="data"/>
    /// under the key (k0, k1), each the little-endian reading of 8 key bytes.</summary>
    internal static ulong SipHash24(ulong k0, ulong k1, ReadOnlySpan<byte> data)
    {
        ulong v0 = 0x736f6d6570736575UL ^ k0, v1 = 0x646f72616e646f6dUL ^ k1;
        ulong v2 = 0x6c7967656e657261UL ^ k0, v3 = 0x7465646279746573UL ^ k1;
        int whole = data.Length & ~7;
        for (int i = 0; i < whole; i += 8)
        {
            ulong m = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            v3 ^= m;
            SipRound(ref v0, ref v1, ref v2, ref v3);
            SipRound(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }
        ulong last = (ulong)data.Length << 56;
        for (int i = whole; i < data.Length; i++) last |= (ulong)data[i] << (8 * (i - whole));
        v3 ^= last;
        SipRound(ref v0, ref v1, ref v2, ref v3);
        SipRound(ref v0, ref v1, ref v2, ref v3);
        v0 ^= last;
        v2 ^= 0xff;
        for (int r = 0; r < 4; r++) SipRound(ref v0, ref v1, ref v2, ref v3);
        return v0 ^ v1 ^ v2 ^ v3;
    }

    static void SipRound(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1; v1 = BitOperations.RotateLeft(v1, 13); v1 ^= v0; v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3; v3 = BitOperations.RotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = BitOperations.RotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = BitOperations.RotateLeft(v1, 17); v1 ^= v2; v2 = BitOperations.RotateLeft(v2, 32);
    }

    public bool Contains(ulong key)
    {
        for (int i = (int)(Mix(key) & (uint)_mask); ; i = (i + 1) & _mask)
        {
            ulong slot = _table[i];
            if (slot == key) return true;
            if (slot == 0) return false;
        }
    }

    /// <summary>Adds the key; false when it was already there (a duplicate). Forgets expired and, when full, the oldest.</summary>
    public bool TryAdd(ulong key, long nowMs)
    {
        Expire(nowMs);
        if (Contains(key)) return false;
        if (_ringCount == _capacity) RemoveOldest();
        else if (_ringCount == _ringKeys.Length) GrowRing();
        if ((_count + 1) * 4 > _table.Length * 3) Grow();
        Insert(key);
        int tail = (_head + _ringCount) % _ringKeys.Length;
        _ringKeys[tail] = key;
        _ringExpirySeconds[tail] = (uint)((nowMs + _ttlMs + 999) / 1000);
        _ringCount++;
        return true;
    }

    /// <summary>Forgets every key whose TTL has passed.</summary>
    public void Expire(long nowMs)
    {
        while (_ringCount > 0 && _ringExpirySeconds[_head] * 1000L <= nowMs) RemoveOldest();
    }

    void RemoveOldest()
    {
        Remove(_ringKeys[_head]);
        _head = (_head + 1) % _ringKeys.Length;
        _ringCount--;
    }

    void Insert(ulong key)
    {
        int i = (int)(Mix(key) & (uint)_mask);
        while (_table[i] != 0) i = (i + 1) & _mask;
        _table[i] = key;
        _count++;
    }

    void Remove(ulong key)
    {
        int i = (int)(Mix(key) & (uint)_mask);
        while (_table[i] != key)
        {
            if (_table[i] == 0) return;
            i = (i + 1) & _mask;
        }
        // Backward-shift deletion: move later entries of the probe run into the hole so lookups need no tombstones.
        int hole = i;
        for (int j = (hole + 1) & _mask; _table[j] != 0; j = (j + 1) & _mask)
        {
            int home = (int)(Mix(_table[j]) & (uint)_mask);
            bool between = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (between) continue;
            _table[hole] = _table[j];
            hole = j;
        }
        _table[hole] = 0;
        _count--;
    }

    void GrowRing()
    {
        int size = (int)Math.Min((long)_ringKeys.Length * 2, _capacity);
        var keys = new ulong[size];
        var expiry = new uint[size];
        for (int i = 0; i < _ringCount; i++)
        {
            int from = (_head + i) % _ringKeys.Length;
            keys[i] = _ringKeys[from];
            expiry[i] = _ringExpirySeconds[from];
        }
        _ringKeys = keys;
        _ringExpirySeconds = expiry;
        _head = 0;
    }

    void Grow()
    {
        var old = _table;
        _table = new ulong[old.Length * 2];
        _mask = _table.Length - 1;
        _count = 0;
        foreach (ulong key in old)
            if (key != 0) Insert(key);
    }

    /// <summary>Spreads the key's bits over the low ones the mask keeps (the hash halves are already random; this keeps runs short).</summary>
    static ulong Mix(ulong key) => (key ^ (key >> 29)) * 0xBF58476D1CE4E5B9UL >> 16;
}
