using StoreSync.Waku.RateLimiting;

namespace StoreSync.Waku.Tests;

public class PerPeerRateLimiterTests
{
    sealed class ManualClock : TimeProvider
    {
        public long Now;
        public override long GetTimestamp() => Now;
        public override long TimestampFrequency => 1000;
    }

    [Fact]
    public void A_peer_gets_its_burst_then_its_rate_and_others_are_unaffected()
    {
        var clock = new ManualClock();
        var limiter = new PerPeerRateLimiter(ratePerSecond: 10, burst: 5, clock);
        Assert.Equal(5, Enumerable.Range(0, 20).Count(_ => limiter.TryAcquire("a")));
        Assert.True(limiter.TryAcquire("b"));
        clock.Now += 100; // 0.1 s = one token
        Assert.True(limiter.TryAcquire("a"));
        Assert.False(limiter.TryAcquire("a"));
    }

    [Fact]
    public void Idle_peers_are_forgotten_so_memory_stays_bounded()
    {
        var clock = new ManualClock();
        var limiter = new PerPeerRateLimiter(10, 5, clock);
        for (int i = 0; i < 1000; i++) limiter.TryAcquire($"peer{i}");
        Assert.Equal(1000, limiter.TrackedPeers);
        clock.Now += 10_000;
        limiter.TryAcquire("late");
        Assert.Equal(1, limiter.TrackedPeers);
    }

    [Fact]
    public void Zero_rate_means_unlimited()
    {
        var limiter = new PerPeerRateLimiter(0, 1);
        Assert.All(Enumerable.Range(0, 1000), _ => Assert.True(limiter.TryAcquire("a")));
    }
}
