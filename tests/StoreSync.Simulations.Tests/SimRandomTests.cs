using StoreSync.Simulations.Engine;

namespace StoreSync.Simulations.Tests;

public class SimRandomTests
{
    [Fact]
    public void Draws_have_the_requested_distributions()
    {
        var rng = new SimRandom(42, 1);
        const int n = 200_000;
        double sum = 0, sumSquares = 0, uniform = 0;
        int below = 0;
        var buckets = new int[10];
        for (int i = 0; i < n; i++)
        {
            double x = rng.Exponential(3.0);
            sum += x;
            sumSquares += x * x;
            if (x < 3.0) below++;
            double u = rng.NextDouble();
            uniform += u;
            buckets[(int)(u * 10)]++;
            Assert.InRange(rng.Next(7), 0, 6);
        }
        Assert.InRange(sum / n, 2.97, 3.03);                        // mean 3
        Assert.InRange(Math.Sqrt(sumSquares / n - sum * sum / n / n), 2.95, 3.05); // sd = mean
        Assert.InRange((double)below / n, 0.627, 0.637);            // P(X < mean) = 1 − 1/e
        Assert.InRange(uniform / n, 0.497, 0.503);
        Assert.All(buckets, b => Assert.InRange(b, n / 10 * 0.97, n / 10 * 1.03));
    }

    [Fact]
    public void Streams_are_reproducible_and_independent()
    {
        var a = new SimRandom(1, 5);
        var b = new SimRandom(1, 5);
        var c = new SimRandom(1, 6);
        var first = Enumerable.Range(0, 8).Select(_ => a.NextUInt64()).ToArray();
        Assert.Equal(first, Enumerable.Range(0, 8).Select(_ => b.NextUInt64()).ToArray());
        Assert.NotEqual(first, Enumerable.Range(0, 8).Select(_ => c.NextUInt64()).ToArray());
    }
}
