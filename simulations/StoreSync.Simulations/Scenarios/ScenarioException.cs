namespace StoreSync.Simulations.Scenarios;

/// <summary>A scenario file that cannot be run; <see cref="Problems"/> name each bad field by its path.</summary>
public sealed class ScenarioException(string source, IReadOnlyList<string> problems)
    : Exception($"{source}: {problems.Count} problem{(problems.Count == 1 ? "" : "s")}:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems))
{
    public string File { get; } = source;

    public IReadOnlyList<string> Problems { get; } = problems;
}
