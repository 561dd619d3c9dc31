using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using StoreSync.Libp2p.Bandwidth;

namespace StoreSync.Libp2p.Tests.Bandwidth;

/// <summary>The bucket's pacing arithmetic on a fake clock: exact waits, realtime charges, live limit changes.</summary>
public class TokenBucketTests
{
    const int KiB = 1024, MiB = 1024 * 1024;

    static TimeSpan Ticks(long t) => TimeSpan.FromTicks(t);

    [Fact]
    public void A_full_bucket_lets_its_burst_go_then_paces_each_chunk_at_the_rate()
    {
        var clock = new FakeTimeProvider();
        var bucket = new TokenBucket(MiB, 64 * KiB, clock);
        for (int i = 0; i < 4; i++) Assert.Equal(TimeSpan.Zero, bucket.Reserve(16 * KiB));
        // 16 KiB at 1 MiB/s = 1/64 s = 156,250 ticks; each further chunk queues behind the previous one.
        Assert.Equal(Ticks(156_250), bucket.Reserve(16 * KiB));
        Assert.Equal(Ticks(312_500), bucket.Reserve(16 * KiB));
        Assert.Equal(-32 * KiB, bucket.Available);
        clock.Advance(Ticks(312_500));
        Assert.Equal(0, bucket.Available);
        Assert.Equal(Ticks(156_250), bucket.Reserve(16 * KiB));
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(64 * KiB, bucket.Available); // refills to the burst, not beyond
        Assert.Equal(7 * 16 * KiB, bucket.PacedBytes);
    }

    [Fact]
    public void Sending_n_bytes_from_a_full_bucket_takes_exactly_n_minus_burst_over_rate()
    {
        var clock = new FakeTimeProvider();
        var bucket = new TokenBucket(MiB, MiB / 4, clock);
        TimeSpan last = TimeSpan.Zero;
        for (int sent = 0; sent < 20 * MiB; sent += 16 * KiB) last = bucket.Reserve(16 * KiB);
        // The last chunk may go once 20 MiB - 256 KiB have been repaid at 1 MiB/s: 19.75 s.
        Assert.Equal(TimeSpan.FromSeconds(19.75), last);
    }

    [Fact]
    public void Unlimited_never_waits_but_counts()
    {
        var bucket = new TokenBucket(0, TokenBucket.MinBurstBytes, new FakeTimeProvider());
        for (int i = 0; i < 100; i++) Assert.Equal(TimeSpan.Zero, bucket.Reserve(MiB));
        bucket.Charge(5);
        Assert.Equal(100L * MiB, bucket.PacedBytes);
        Assert.Equal(5, bucket.RealtimeBytes);
        Assert.Equal(long.MaxValue, bucket.Available);
    }

    [Fact]
    public void Realtime_charges_never_wait_and_make_paced_traffic_wait_for_them_up_to_the_debt_cap()
    {
        var clock = new FakeTimeProvider();
        var bucket = new TokenBucket(MiB, 64 * KiB, clock);
        bucket.Charge(64 * KiB + 512 * KiB); // empties the bucket and owes half a second
        Assert.Equal(Ticks(5_000_000 + 156_250), bucket.Reserve(16 * KiB));

        var capped = new TokenBucket(MiB, 64 * KiB, clock);
        capped.Charge(100 * MiB); // a realtime flood: history is held back by at most MaxRealtimeDebt
        Assert.Equal(-MiB, capped.Available);
        Assert.Equal(TokenBucket.MaxRealtimeDebt + Ticks(156_250), capped.Reserve(16 * KiB));
        Assert.Equal(100L * MiB, capped.RealtimeBytes);
    }

    [Fact]
    public void A_limit_change_keeps_the_debt_in_bytes_and_repays_it_at_the_new_rate()
    {
        var clock = new FakeTimeProvider();
        var bucket = new TokenBucket(MiB, 64 * KiB, clock);
        bucket.Reserve(64 * KiB + 512 * KiB); // half a second of debt at 1 MiB/s
        bucket.SetLimit(256 * KiB, 64 * KiB); // the same 512 KiB take 2 s at 256 KiB/s
        Assert.Equal(-512 * KiB, bucket.Available);
        Assert.Equal(TimeSpan.FromSeconds(2) + Ticks(625_000), bucket.Reserve(16 * KiB));
        bucket.SetLimit(0, 64 * KiB); // unlimited: the debt is forgiven
        Assert.Equal(TimeSpan.Zero, bucket.Reserve(10 * MiB));
    }

    [Fact]
    public void Bad_limits_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(-1, 64 * KiB));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(MiB, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(MiB, 64 * KiB).Reserve(-1));
    }

    /// <summary>Reference model: a bucket of real-valued tokens refilled continuously, starting full; requests are served in
    /// order, each at the first moment (not before it arrives nor before the previous one) its bytes are available.</summary>
    static double[] ReferenceReleaseTimes(long rate, long burst, (int Bytes, int GapMs)[] requests)
    {
        var releases = new double[requests.Length];
        double tokens = burst, clock = 0, lastRelease = 0, arrival = 0;
        for (int i = 0; i < requests.Length; i++)
        {
            arrival += requests[i].GapMs / 1000.0;
            double t = Math.Max(arrival, lastRelease);
            tokens = Math.Min(burst, tokens + (t - clock) * rate);
            clock = t;
            if (tokens < requests[i].Bytes)
            {
                double more = (requests[i].Bytes - tokens) / rate;
                clock += more;
                tokens = requests[i].Bytes;
            }
            tokens -= requests[i].Bytes;
            releases[i] = lastRelease = clock;
        }
        return releases;
    }

    [Property(MaxTest = 300)]
    public Property Release_times_match_a_continuous_token_bucket_model() =>
        Prop.ForAll(
            Gen.Choose(1, 4096).SelectMany(rateKiB => Gen.Choose(1, 64).SelectMany(burstKiB =>
                Gen.ArrayOf(Gen.Choose(1, burstKiB * KiB).SelectMany(bytes => Gen.Choose(0, 300).Select(gap => (Bytes: bytes, GapMs: gap))))
                    .Select(reqs => (Rate: (long)rateKiB * KiB, Burst: (long)burstKiB * KiB, Requests: reqs)))).ToArbitrary(),
            c =>
            {
                var clock = new FakeTimeProvider();
                var bucket = new TokenBucket(c.Rate, c.Burst, clock);
                var expected = ReferenceReleaseTimes(c.Rate, c.Burst, c.Requests);
                double elapsed = 0;
                for (int i = 0; i < c.Requests.Length; i++)
                {
                    var gap = TimeSpan.FromMilliseconds(c.Requests[i].GapMs);
                    clock.Advance(gap);
                    elapsed += gap.TotalSeconds;
                    // Requests arrive at their own times; the bucket queues them itself, so a request is released at now + wait.
                    double release = elapsed + bucket.Reserve(c.Requests[i].Bytes).TotalSeconds;
                    // Integer ticks round each cost up: at most one tick of drift per request.
                    if (Math.Abs(release - expected[i]) > (i + 2) * 1e-7) return false;
                }
                return true;
            });
}
