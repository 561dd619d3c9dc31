using System.Diagnostics;

namespace StoreSync.Testing.Interop;

/// <summary>Runs one Node.js script of a tests/Interop folder to its end, bounded in time.</summary>
public static class NodeScript
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <c>node [nodeArgs] script args</c> in tests/Interop/<paramref name="folder"/>.</summary>
    /// <exception cref="InvalidOperationException">The folder's node_modules is missing (tests/run.sh runs npm ci).</exception>
    /// <exception cref="TimeoutException">The script ran longer than <paramref name="timeout"/> (it is killed).</exception>
    public static async Task<Result> RunAsync(string folder, string script, IEnumerable<string> args, TimeSpan timeout, IEnumerable<string>? nodeArgs = null)
    {
        var dir = InteropScripts.Directory(folder, script);
        if (!Directory.Exists(Path.Combine(dir, "node_modules")))
            throw new InvalidOperationException($"npm packages are not installed in {dir}: run tests/run.sh (it runs npm ci)");
        var start = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (nodeArgs ?? []).Append(script).Concat(args)) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cts.Token).ConfigureAwait(false); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish in {timeout.TotalSeconds} s: {await stderr.ConfigureAwait(false)}");
        }
        return new Result(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
