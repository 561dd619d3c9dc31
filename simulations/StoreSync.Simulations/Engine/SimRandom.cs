namespace StoreSync.Simulations.Engine;

/// <summary>A seeded xoshiro256** generator: the same seed and stream give the same numbers on every runtime.</summary>
/// <remarks>
/// System.Random's seeded output is an implementation detail of .NET; a simulator whose CSV must be byte-identical
/// for a seed cannot depend on it. Each concern (a node's schedule, its ingest losses, its peer choice, a
/// community's publications) draws from its own stream, so changing one parameter leaves the others' draws alone.
/// </remarks>
internal sealed class SimRandom
{
    ulong _s0, _s1, _s2, _s3;

    public SimRandom(ulong seed, ulong stream)
    {
        ulong x = seed ^ (stream * 0xD1B54A32D192ED03UL);
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n).</summary>
    public int Next(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        return (int)((NextUInt64() >> 33) * (ulong)n >> 31);
    }

    /// <summary>Uniform in [lo, hi].</summary>
    public int Between(int lo, int hi) => lo + (int)(NextUInt64() % (ulong)(hi - lo + 1));

    public bool Chance(double p) => p > 0 && (p >= 1 || NextDouble() < p);

    /// <summary>An exponential variate with the given mean (inverse transform; never 0, never infinite).</summary>
    public double Exponential(double mean) => -mean * Math.Log(1.0 - NextDouble());

    public void Fill(Span<byte> bytes)
    {
        while (bytes.Length >= 8)
        {
            BitConverter.TryWriteBytes(bytes, NextUInt64());
            bytes = bytes[8..];
        }
        if (bytes.Length > 0)
        {
            ulong last = NextUInt64();
            for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(last >> (8 * i));
        }
    }
}
