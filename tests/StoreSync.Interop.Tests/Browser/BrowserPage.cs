using System.Diagnostics;
using System.Text.Json;
using StoreSync.Testing.Interop;

namespace StoreSync.Interop.Tests.Browser;

/// <summary>tests/Interop/browser: bundles the js-waku page with esbuild (build.mjs), then serves it and runs it in Debian's
/// headless Chromium (run-page.mjs, playwright-core with /usr/bin/chromium), bounded in time.</summary>
public static class BrowserPage
{
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>What the page reported: its connection and the hashes (hex, no 0x) of every Store page each way and of its push.</summary>
    public sealed record Result(string Peer, string RemoteAddr, string Encryption, string Multiplexer, string UserAgent,
        List<List<string>> Forward, List<List<string>> Backward, string Pushed, long PushedTimestamp);

    static string ScriptDirectory() => InteropScripts.Directory("browser", "run-page.mjs");

    /// <summary>Builds the bundle into a fresh folder: the test setup, so the page is always built from the pinned packages.</summary>
    public static async Task<string> BuildAsync()
    {
        var dir = ScriptDirectory();
        foreach (var package in new[] { "esbuild", "playwright-core", "@waku/sdk" })
            if (!Directory.Exists(Path.Combine(dir, "node_modules", package)))
                throw new InvalidOperationException($"{package} is not installed in {dir}: run tests/run.sh (it runs npm ci)");
        var output = Directory.CreateTempSubdirectory("storesync-browser-").FullName;
        var (code, stdout, stderr) = await RunNodeAsync(dir, TimeSpan.FromSeconds(120), "build.mjs", output);
        if (code != 0) throw new InvalidOperationException($"build.mjs exited {code}: {stderr}\n{stdout}");
        return output;
    }

    /// <summary>Opens the bundle's page with <paramref name="query"/>, saves the screenshot, returns the page's result.</summary>
    public static async Task<Result> RunAsync(string bundle, string screenshot, string query)
    {
        if (!File.Exists(Chromium)) throw new InvalidOperationException($"{Chromium} is missing: run tests/run.sh (it installs Debian's chromium)");
        var (code, stdout, stderr) = await RunNodeAsync(ScriptDirectory(), TimeSpan.FromSeconds(180), "run-page.mjs", bundle, screenshot, query);
        if (code != 0) throw new InvalidOperationException($"run-page.mjs exited {code}: {stderr}\n{stdout}");
        return JsonSerializer.Deserialize<Result>(stdout, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
            ?? throw new InvalidDataException("run-page.mjs reported nothing: " + stderr);
    }

    static async Task<(int Code, string Stdout, string Stderr)> RunNodeAsync(string dir, TimeSpan limit, params string[] args)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw new TimeoutException($"{args[0]} did not finish in {limit.TotalSeconds} s: {await stderr}"); }
        return (process.ExitCode, await stdout, await stderr);
    }
}
