using System.Diagnostics;
using StoreSync.Core;

namespace StoreSync.Storage.Tests;

/// <summary>A write that returned survives the writer being killed with SIGKILL (WAL without fsync: the page cache is the kernel's).</summary>
public class CrashTests
{
    /// <summary>The child's build output: the same configuration and runtime folder as this test assembly, under its own project.</summary>
    internal static string ChildAssembly()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory);            // tests/StoreSync.Storage.Tests/bin/<cfg>/<tfm>/<rid>/
        var rid = here.Name;
        var tfm = here.Parent!.Name;
        var configuration = here.Parent.Parent!.Name;
        var testsFolder = here.Parent.Parent.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(testsFolder, "StoreSync.Storage.CrashWriter", "bin", configuration, tfm, rid, "StoreSync.Storage.CrashWriter.dll");
        Assert.True(File.Exists(path), $"the crash writer is not built at {path}");
        return path;
    }

    [Fact]
    public async Task Every_acknowledged_insert_and_delete_survives_kill_9()
    {
        string folder = Directory.CreateTempSubdirectory("storesync-crash-").FullName;
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(ChildAssembly());
            start.ArgumentList.Add(folder);
            using var child = Process.Start(start)!;
            var inserted = new HashSet<MessageHash>();
            var deleted = new HashSet<MessageHash>();
            int acknowledgedRounds = 0;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            // Kill mid-stream: after 300 acknowledged rounds the child is still writing as fast as it can.
            while (acknowledgedRounds < 300)
            {
                var line = await child.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null) Assert.Fail("the crash writer stopped early: " + await child.StandardError.ReadToEndAsync());
                var halves = line.Split(" - ");
                inserted.UnionWith(halves[0][1..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(MessageHash.Parse));
                var gone = halves[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(MessageHash.Parse).ToList();
                inserted.ExceptWith(gone);
                deleted.UnionWith(gone);
                acknowledgedRounds++;
            }
            child.Kill(); // SIGKILL on Linux: no flush, no clean close of RocksDB
            await child.WaitForExitAsync(timeout.Token);
            Assert.NotEqual(0, child.ExitCode);

            using var store = MessageStore.Open(folder);
            Assert.All(inserted, h => Assert.True(store.Contains(h), $"acknowledged insert {h} lost"));
            Assert.All(deleted, h => Assert.False(store.Contains(h), $"acknowledged delete {h} undone"));
            // Writes after the last acknowledged one may or may not have landed; the store must be consistent either way.
            Assert.True(store.GetStatistics().Messages >= inserted.Count);
            Assert.Empty(StoreIntegrity.Check(store));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
