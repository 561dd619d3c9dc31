using FsCheck;
using FsCheck.Fluent;
using StoreSync.Testing;

namespace StoreSync.Storage.Tests;

/// <summary>The tape the store's model properties read: choices stay in range, and a failing case shrinks to a short one.</summary>
public sealed class ChoiceTapeTests
{
    [Fact]
    public void Choices_stay_in_their_ranges_and_an_exhausted_tape_gives_the_lowest()
    {
        var tape = new ChoiceTape([int.MaxValue, 7, 0, 12345, int.MaxValue - 1]);
        Assert.InRange(tape.Next(10), 0, 9);
        Assert.InRange(tape.Next(-5, 5), -5, 4);
        Assert.Equal(0, tape.Next(1)); // one option: nothing taken from the tape
        Assert.InRange(tape.NextInt64(3L, 1_000_000_000_000L), 3L, 999_999_999_999L); // takes two choices
        Assert.Equal((int.MaxValue - 1) % 100, tape.Next(100));
        Assert.Equal(-3, tape.Next(-3, 9));
        Assert.Equal(0L, tape.NextInt64(1L << 40));
    }

    [Fact]
    public void A_long_tape_offers_a_bounded_number_of_shrink_candidates_all_shorter_or_smaller()
    {
        var choices = Enumerable.Range(1, 4_000).ToArray();
        var candidates = ChoiceTape.Arbitrary(4_000).Shrinker(new ChoiceTape(choices)).ToList();
        Assert.InRange(candidates.Count, 1, 64);
        Assert.All(candidates, c => Assert.True(c.Choices.Count < choices.Length || c.Choices.Sum(x => (long)x) < choices.Sum(x => (long)x)));
    }

    [Fact]
    public void A_failing_property_shrinks_to_the_one_choice_that_fails_it()
    {
        // Fails as soon as a "batch" of 20 or more is chosen: the shrunk tape holds that one choice and nothing else.
        var property = Prop.ForAll(ChoiceTape.Arbitrary(400), tape =>
        {
            for (int step = 0; step < 50; step++)
                if (tape.Next(30) >= 20) return false;
            return true;
        });
        var failure = Assert.ThrowsAny<Exception>(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), property));
        Assert.Contains("tape[1]:", failure.Message);
    }

    [Fact]
    public void A_passing_property_runs_its_cases()
    {
        int runs = 0;
        var property = Prop.ForAll(ChoiceTape.Arbitrary(50), tape =>
        {
            runs++;
            return tape.Next(10) < 10;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(30), property);
        Assert.Equal(30, runs);
    }
}
