using System.Text;
using System.Text.Json;
using StoreSync.Core;
using StoreSync.Storage;

namespace StoreSync.Node.Tests;

public sealed class CliEndToEndTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-cli-").FullName;
    string Data(string name = "data") => Path.Combine(_dir, name);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Ndjson(int count, int start = 0) => string.Concat(Enumerable.Range(start, count).Select(Line));

    static string Line(int i)
    {
        var payload = Convert.ToBase64String(Encoding.UTF8.GetBytes($"message {i}"));
        var content = i % 3 == 0 ? "a" : "b";
        long ts = 1_700_000_000_000_000_000L + i * 1_000_000L;
        return "{\"pubsubTopic\":\"/waku/2/rs/1/" + (i % 2) + "\",\"message\":{\"contentTopic\":\"/app/1/" + content
            + "/proto\",\"payload\":\"" + payload + "\",\"timestamp\":" + ts + "}}\n";
    }

    [Fact]
    public async Task Import_query_all_and_reimport_round_trip()
    {
        var file = Path.Combine(_dir, "in.ndjson");
        File.WriteAllText(file, Ndjson(250) + "{broken\n");
        var import = await StoresyncProcess.RunAsync(null, "import", file, "--data-dir", Data());
        Assert.Equal(1, import.ExitCode);
        Assert.Contains("read 251, stored 250, already stored 0, rejected 1", import.Stdout);
        Assert.Contains("in.ndjson:251: rejected", import.Stderr);

        var again = await StoresyncProcess.RunAsync(null, "import", file, "--data-dir", Data());
        Assert.Contains("stored 0, already stored 250", again.Stdout);

        var all = await StoresyncProcess.RunAsync(null, "query", "--data-dir", Data(), "-p", "/waku/2/rs/1/0", "-c", "/app/1/a/proto", "-c", "/app/1/b/proto", "--all", "--limit", "7");
        Assert.Equal(0, all.ExitCode);
        var lines = all.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(125, lines.Length);
        Assert.Contains("125 messages in 18 pages", all.Stderr);
        var timestamps = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("message").GetProperty("timestamp").GetInt64()).ToList();
        Assert.Equal(timestamps.Order(), timestamps);

        var exported = Path.Combine(_dir, "out.ndjson");
        File.WriteAllText(exported, all.Stdout);
        var reimport = await StoresyncProcess.RunAsync(null, "import", exported, "--data-dir", Data("copy"));
        Assert.Equal(0, reimport.ExitCode);
        Assert.Contains("stored 125", reimport.Stdout);

        var check = await StoresyncProcess.RunAsync(null, "check", "--data-dir", Data());
        Assert.Equal(0, check.ExitCode);
        Assert.Contains("ok: 250 messages", check.Stdout);

        var stats = await StoresyncProcess.RunAsync(null, "stats", "--json", "--data-dir", Data());
        var root = JsonDocument.Parse(stats.Stdout).RootElement;
        Assert.Equal(250, root.GetProperty("messages").GetInt64());
        Assert.Equal(2, root.GetProperty("pubsubTopics").GetArrayLength());
    }

    [Fact]
    public async Task On_error_stop_keeps_what_came_before_the_bad_record_and_stops_there()
    {
        var file = Path.Combine(_dir, "stop.ndjson");
        File.WriteAllText(file, Ndjson(10) + "{\"pubsubTopic\":\"/waku/2/rs/1/0\",\"message\":{\"contentTopic\":\"bad\",\"payload\":\"\",\"timestamp\":1}}\n" + Ndjson(20));
        var stop = await StoresyncProcess.RunAsync(null, "import", file, "--on-error", "stop", "--batch-size", "3", "--data-dir", Data());
        Assert.Equal(1, stop.ExitCode);
        Assert.Contains("read 11, stored 10, already stored 0, rejected 1; stopped at stop.ndjson:11 (--on-error stop)", stop.Stdout);
        Assert.Contains("stop.ndjson:11: rejected", stop.Stderr);

        var skip = await StoresyncProcess.RunAsync(null, "import", file, "--on-error", "skip", "--data-dir", Data());
        Assert.Equal(1, skip.ExitCode);
        Assert.Contains("read 31, stored 10, already stored 20, rejected 1", skip.Stdout);

        var bad = await StoresyncProcess.RunAsync(null, "import", file, "--on-error", "maybe", "--data-dir", Data());
        Assert.Equal(2, bad.ExitCode);
    }

    [Fact]
    public async Task One_page_prints_the_nwaku_rest_shape()
    {
        var file = Path.Combine(_dir, "in.ndjson");
        File.WriteAllText(file, Ndjson(30));
        await StoresyncProcess.RunAsync(null, "import", file, "--data-dir", Data());
        var page = await StoresyncProcess.RunAsync(null, "query", "--data-dir", Data(), "-p", "/waku/2/rs/1/0", "--backward", "-n", "5");
        var root = JsonDocument.Parse(page.Stdout).RootElement;
        Assert.Equal(200, root.GetProperty("statusCode").GetInt32());
        Assert.Equal("OK", root.GetProperty("statusDesc").GetString());
        Assert.Equal(5, root.GetProperty("messages").GetArrayLength());
        var first = root.GetProperty("messages")[0];
        Assert.Matches("^0x[0-9a-f]{64}$", first.GetProperty("messageHash").GetString());
        Assert.Equal("/waku/2/rs/1/0", first.GetProperty("pubsubTopic").GetString());
        Assert.Matches("^0x[0-9a-f]{64}$", root.GetProperty("paginationCursor").GetString());
    }

    [Theory]
    [InlineData("query --start yesterday")]
    [InlineData("query --hash nothex")]
    [InlineData("query -c /a/1/b/c")]
    [InlineData("import")]
    [InlineData("frobnicate")]
    public async Task Usage_errors_exit_2_with_a_message(string args)
    {
        var result = await StoresyncProcess.RunAsync(null, [.. args.Split(' '), "--data-dir", Data()]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("storesync: ", result.Stderr);
    }

    [Fact]
    public async Task Acknowledged_messages_survive_kill_9()
    {
        using var process = System.Diagnostics.Process.Start(StoresyncProcess.StartInfo("import", "-", "--batch-size", "7", "--print-hashes", "--data-dir", Data()))!;
        var acknowledged = new List<MessageHash>();
        var writer = Task.Run(async () =>
        {
            try
            {
                // Bounded: at most 200,000 lines; the reader kills the process long before.
                for (int i = 0; i < 200_000; i += 100) await process.StandardInput.WriteAsync(Ndjson(100, i));
                process.StandardInput.Close();
            }
            catch (IOException) { } // the pipe breaks when the child is killed
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (acknowledged.Count < 3000)
        {
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            Assert.NotNull(line);
            acknowledged.Add(MessageHash.Parse(line));
        }
        process.Kill(entireProcessTree: true); // SIGKILL: no flush, no clean close
        await process.WaitForExitAsync(timeout.Token);
        await writer;

        using var store = MessageStore.Open(Data());
        Assert.All(acknowledged, h => Assert.True(store.Contains(h), $"acknowledged message {h} lost"));
        Assert.True(store.GetStatistics().Messages >= acknowledged.Count);
        Assert.Empty(StoreIntegrity.Check(store));
    }
}
