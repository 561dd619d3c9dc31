using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Pubsub;

namespace StoreSync.Libp2p.Tests.Pubsub;

/// <summary>The seen cache and the message cache: duplicates, expiry, and their bounds.</summary>
public class CacheTests
{
    static byte[] Id(int i) => BitConverter.GetBytes(i).Concat(new byte[28]).ToArray();

    [Fact]
    public void The_seen_cache_reports_duplicates_until_the_ttl_passes()
    {
        var seen = new SeenCache(1000, TimeSpan.FromSeconds(120));
        ulong a = SeenCache.KeyOf(Id(1));
        Assert.True(seen.TryAdd(a, 0));
        Assert.False(seen.TryAdd(a, 119_999));
        Assert.True(seen.TryAdd(SeenCache.KeyOf(Id(2)), 60_000));
        seen.Expire(120_000);
        Assert.False(seen.Contains(a));
        Assert.True(seen.Contains(SeenCache.KeyOf(Id(2))));
        Assert.True(seen.TryAdd(a, 120_000));
    }

    [Fact]
    public void The_seen_cache_forgets_the_oldest_beyond_its_capacity_and_stays_consistent()
    {
        var seen = new SeenCache(5000, TimeSpan.FromHours(1));
        for (int i = 0; i < 20_000; i++) Assert.True(seen.TryAdd(SeenCache.KeyOf(Id(i)), i));
        Assert.Equal(5000, seen.Count);
        for (int i = 0; i < 15_000; i++) Assert.False(seen.Contains(SeenCache.KeyOf(Id(i))));
        for (int i = 15_000; i < 20_000; i++) Assert.True(seen.Contains(SeenCache.KeyOf(Id(i))));
    }

    [Fact]
    public void The_seen_cache_at_10000_messages_per_second_for_the_ttl_stays_under_its_budget()
    {
        // 10,000 msg/s for the 2-minute TTL = 1.2 M ids; the Waku preset's cap holds them in about 30 MiB.
        var options = GossipsubOptions.Waku;
        var seen = new SeenCache(options.SeenCacheCapacity, options.SeenTtl);
        for (int i = 0; i < 1_200_000; i++) seen.TryAdd(SeenCache.KeyOf(Id(i)), i / 10);
        Assert.Equal(1_200_000, seen.Count);
        Assert.True(seen.Bytes <= 32L * 1024 * 1024, $"{seen.Bytes} bytes");
    }

    [Fact]
    public void The_seen_cache_key_is_siphash_2_4_and_has_no_collisions_among_two_million_random_ids()
    {
        // The SipHash paper's test vector (appendix A): key 00..0f, message 00..0e.
        var message = Enumerable.Range(0, 15).Select(i => (byte)i).ToArray();
        Assert.Equal(0xa129ca6149be45e5UL, SeenCache.SipHash24(0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL, message));
        // 2 million 64-bit keys: a true 64-bit hash collides with probability 1e-7; the former key (two HashCodes sharing
        // lanes) gave ~95 collisions here.
        var keys = new HashSet<ulong>(2_000_000);
        var id = new byte[32];
        var random = new Random(14);
        int collisions = 0;
        for (int i = 0; i < 2_000_000; i++)
        {
            random.NextBytes(id);
            if (!keys.Add(SeenCache.KeyOf(id))) collisions++;
        }
        Assert.Equal(0, collisions);
    }

    [Fact]
    public void The_message_cache_gossips_recent_windows_and_forgets_after_the_history()
    {
        var peer = PeerId.FromPublicKey(IdentityKey.Generate(KeyType.Ed25519).PublicKey);
        var cache = new MessageCache(historyLength: 5, historyGossip: 3, maxBytes: 1 << 20);
        for (int i = 0; i < 6; i++)
        {
            var entry = new CachedMessage(Id(i), SeenCache.KeyOf(Id(i)), "t", 0, peer);
            cache.Add(entry);
            cache.SetFrame(entry, new byte[10]);
            cache.Shift();
        }
        var ids = new List<byte[]>();
        cache.GossipIds("t", ids, 100);
        Assert.Equal([5, 4], ids.Select(i => BitConverter.ToInt32(i)).ToArray()); // newest window is empty after the shift
        Assert.True(cache.TryGet(SeenCache.KeyOf(Id(2)), Id(2), out _));
        Assert.False(cache.TryGet(SeenCache.KeyOf(Id(1)), Id(1), out _));
        Assert.False(cache.TryGet(SeenCache.KeyOf(Id(2)), Id(3), out _));
        var other = new List<byte[]>();
        cache.GossipIds("other", other, 100);
        Assert.Empty(other);
    }

    [Fact]
    public void The_message_cache_drops_old_windows_beyond_its_byte_limit()
    {
        var peer = PeerId.FromPublicKey(IdentityKey.Generate(KeyType.Ed25519).PublicKey);
        var cache = new MessageCache(historyLength: 6, historyGossip: 3, maxBytes: 10_000);
        for (int i = 0; i < 50; i++)
        {
            var entry = new CachedMessage(Id(i), SeenCache.KeyOf(Id(i)), "t", 0, peer);
            cache.Add(entry);
            cache.SetFrame(entry, new byte[1000]);
            if (i % 5 == 4) cache.Shift();
        }
        Assert.True(cache.Bytes <= 10_000, $"{cache.Bytes}");
        Assert.True(cache.TryGet(SeenCache.KeyOf(Id(49)), Id(49), out _));
    }
}
