using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace StoreSync.Interop.Tests.Waku;

/// <summary>A real <c>storesync node</c> process on 127.0.0.1 with a temp data folder; killed and cleaned up on dispose.</summary>
public sealed partial class StoreNodeProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly ConcurrentQueue<string> _output = new();

    StoreNodeProcess(Process process, string dataDir)
    {
        _process = process;
        DataDir = dataDir;
    }

    public string DataDir { get; }
    public string Address { get; private set; } = "";
    public Uri Rest { get; private set; } = null!;
    public string Output => string.Join("\n", _output);

    [GeneratedRegex(@"storesync node listening on (/ip4/127\.0\.0\.1/\S+)")]
    private static partial Regex ListenLine();

    [GeneratedRegex(@"REST API listening on (http://\S+)")]
    private static partial Regex RestLine();

    public static async Task<StoreNodeProcess> StartAsync(params string[] extraArgs)
    {
        var dataDir = Directory.CreateTempSubdirectory("storesync-interop-").FullName;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "storesync.dll"), "node", "--data-dir", dataDir, "--listen-address", "127.0.0.1",
                     "--tcp-port", "0", "--rest-port", "0", "--metrics-server", "false" }.Concat(extraArgs))
            start.ArgumentList.Add(a);
        var node = new StoreNodeProcess(Process.Start(start)!, dataDir);
        _ = Task.Run(async () => { while (await node._process.StandardError.ReadLineAsync() is { } l) if (node._output.Count < 2000) node._output.Enqueue(l); });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (node.Address.Length == 0 || node.Rest is null)
            {
                var line = await node._process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("node exited:\n" + node.Output);
                if (node._output.Count < 2000) node._output.Enqueue(line);
                if (ListenLine().Match(line) is { Success: true } m) node.Address = m.Groups[1].Value;
                if (RestLine().Match(line) is { Success: true } r) node.Rest = new Uri(r.Groups[1].Value);
            }
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
        _ = Task.Run(async () => { while (await node._process.StandardOutput.ReadLineAsync() is { } l) if (node._output.Count < 2000) node._output.Enqueue(l); });
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _process.WaitForExitAsync(timeout.Token);
        _process.Dispose();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}
