using FsCheck;
using FsCheck.Fluent;

namespace StoreSync.Testing;

/// <summary>
/// A generated sequence of choices that a model test reads instead of a seeded Random: FsCheck generates the tape, and on a
/// failure shrinks it (cutting blocks of choices, zeroing them), so the case it reports is short and its choices are small.
/// When the tape runs out every further choice is the lowest, so a shortened tape is still a valid case.
/// </summary>
public sealed class ChoiceTape(int[] choices)
{
    int _next;

    /// <summary>The choices, for FsCheck to print and shrink.</summary>
    public IReadOnlyList<int> Choices => choices;

    /// <summary>Any non-negative choice.</summary>
    public int Next() => (int)(Take() & int.MaxValue);

    /// <summary>A choice in [0, max).</summary>
    public int Next(int max) => max <= 1 ? 0 : (int)(Take() % (uint)max);

    /// <summary>A choice in [min, max).</summary>
    public int Next(int min, int max) => min + Next(max - min);

    /// <summary>A choice in [0, max).</summary>
    public long NextInt64(long max) => max <= 1 ? 0 : (long)(((ulong)Take() << 31 | Take()) % (ulong)max);

    /// <summary>A choice in [min, max).</summary>
    public long NextInt64(long min, long max) => min + NextInt64(max - min);

    uint Take() => _next < choices.Length ? (uint)choices[_next++] : 0;

    public override string ToString() => $"tape[{choices.Length}]: {string.Join(",", choices)}";

    /// <summary>Tapes of up to <paramref name="maxLength"/> non-negative choices, shrinking by blocks.</summary>
    public static Arbitrary<ChoiceTape> Arbitrary(int maxLength) => Arb.From(
        Gen.Choose(0, maxLength).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, int.MaxValue), n)).Select(a => new ChoiceTape(a)),
        tape => Shrink(tape.Choices).Select(a => new ChoiceTape(a)));

    // Blocks from half the tape down to one eighth, first cut out, then zeroed: a bounded number of candidates per step,
    // since each candidate of a store model test costs a RocksDB instance.
    static IEnumerable<int[]> Shrink(IReadOnlyList<int> tape)
    {
        var blocks = new List<(int Start, int Length)>();
        for (int size = tape.Count / 2; size >= Math.Max(1, tape.Count / 8); size /= 2)
            for (int start = 0; start < tape.Count; start += size)
                blocks.Add((start, Math.Min(size, tape.Count - start)));
        if (tape.Count == 1) blocks.Add((0, 1));
        foreach (var (start, length) in blocks)
            yield return [.. tape.Take(start), .. tape.Skip(start + length)];
        foreach (var (start, length) in blocks)
        {
            if (tape.Skip(start).Take(length).All(c => c == 0)) continue;
            var zeroed = tape.ToArray();
            Array.Clear(zeroed, start, length);
            yield return zeroed;
        }
    }
}

/// <summary>FsCheck's source of <see cref="ChoiceTape"/> arguments: <c>[Property(Arbitrary = [typeof(ChoiceTapes)])]</c>.</summary>
public static class ChoiceTapes
{
    /// <summary>Up to 4,000 choices: enough for every model test here to run all its steps with fresh choices.</summary>
    public static Arbitrary<ChoiceTape> Tapes() => ChoiceTape.Arbitrary(4_000);
}
