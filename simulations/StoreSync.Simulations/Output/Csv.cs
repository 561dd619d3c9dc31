using System.Globalization;

namespace StoreSync.Simulations.Output;

/// <summary>Invariant, fixed-precision number formatting so CSV files are byte-identical across runs and machines.</summary>
internal static class Csv
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string N(long value) => value.ToString(Invariant);

    public static string N(int value) => value.ToString(Invariant);

    /// <summary>At most six decimals, no exponent, trailing zeros dropped.</summary>
    public static string D(double value) => value.ToString("0.######", Invariant);

    public static string Seconds(long nanos) => (nanos / 1e9).ToString("0.###", Invariant);

    public static string Hours(long nanos) => (nanos / 3.6e12).ToString("0.####", Invariant);
}
