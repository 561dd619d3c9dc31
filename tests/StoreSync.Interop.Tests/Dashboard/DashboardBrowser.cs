using System.Diagnostics;
using System.Text.Json;
using StoreSync.Testing.Interop;

namespace StoreSync.Interop.Tests.Dashboard;

/// <summary>Runs tests/Interop/dashboard/dashboard-check.mjs (playwright-core driving Debian's /usr/bin/chromium) against a node's dashboard.</summary>
public static class DashboardBrowser
{
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>What the page showed: <c>data-value</c> of each figure by element id (or <c>community/class</c>) and its text.</summary>
    public sealed record Rendered(Dictionary<string, string> Values, Dictionary<string, string> Texts);

    static string ScriptDirectory() => InteropScripts.Directory("dashboard", "dashboard-check.mjs");

    /// <summary>Opens <paramref name="url"/>, screenshots it to <paramref name="screenshot"/>, performs <paramref name="actions"/>
    /// (pairs such as <c>--click</c>, <c>selector</c>); returns the figures before and after the actions.</summary>
    public static async Task<(Rendered Before, Rendered? After)> RunAsync(Uri url, string screenshot, params string[] actions)
    {
        var dir = ScriptDirectory();
        if (!File.Exists(Chromium)) throw new InvalidOperationException($"{Chromium} is missing: run tests/run.sh (it installs Debian's chromium)");
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "playwright-core")))
            throw new InvalidOperationException($"playwright-core is not installed in {dir}: run tests/run.sh (it runs npm ci)");
        var start = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "dashboard-check.mjs", url.ToString(), screenshot }.Concat(actions)) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw new TimeoutException("dashboard-check.mjs did not finish in 120 s: " + await stderr); }
        if (process.ExitCode != 0) throw new InvalidOperationException($"dashboard-check.mjs exited {process.ExitCode}: {await stderr}\n{await stdout}");
        Rendered? before = null, after = null;
        foreach (var line in (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var json = JsonDocument.Parse(line).RootElement;
            var rendered = new Rendered(
                json.GetProperty("values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                json.GetProperty("texts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""));
            if (json.GetProperty("phase").GetString() == "rendered") before = rendered; else after = rendered;
        }
        return (before ?? throw new InvalidDataException("dashboard-check.mjs reported nothing: " + await stderr), after);
    }
}
