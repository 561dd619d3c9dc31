using System.Text.Json;
using System.Text.Json.Nodes;
using StoreSync.Testing.Node;

namespace StoreSync.Node.Tests;

/// <summary><c>storesync query --peer</c> (our Store v3 client over TCP, Noise and Yamux) against a running node, for every query shape:
/// the output is the local query's, byte for byte (request ids aside).</summary>
public sealed class RemoteQueryTests : IDisposable
{
    const string P0 = "/waku/2/rs/1/0", P1 = "/waku/2/rs/1/1", A = "/app/1/a/proto", B = "/app/1/b/proto", C = "/app/1/c/proto";
    const long T0 = 1_700_000_000_000_000_000L;
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-remote-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Line(int i)
    {
        string content = (i % 3) switch { 0 => A, 1 => B, _ => C };
        return "{\"pubsubTopic\":\"/waku/2/rs/1/" + (i % 2) + "\",\"contentTopic\":\"" + content + "\",\"payload\":\""
            + Convert.ToBase64String(BitConverter.GetBytes(i)) + "\",\"timestamp\":" + (T0 + i / 4 * 1000) + "}\n"; // groups of 4 share a timestamp
    }

    /// <summary>A single page's JSON without its request id (a fresh GUID per run).</summary>
    static string WithoutRequestId(string json)
    {
        if (JsonNode.Parse(json) is not JsonObject page) return json;
        Assert.True(page.Remove("requestId"));
        return page.ToJsonString();
    }

    [Fact]
    public async Task Query_peer_prints_what_a_local_query_prints_for_every_query_shape()
    {
        var data = Path.Combine(_dir, "data");
        File.WriteAllText(Path.Combine(_dir, "in.ndjson"), string.Concat(Enumerable.Range(0, 160).Select(Line)));
        Assert.Equal(0, (await StoresyncProcess.RunAsync(null, "import", Path.Combine(_dir, "in.ndjson"), "--data-dir", data)).ExitCode);
        var some = JsonDocument.Parse((await StoresyncProcess.RunAsync(null, "query", "--data-dir", data, "-p", P0, "-n", "10")).Stdout)
            .RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("messageHash").GetString()!).ToList();

        string[][] shapes =
        [
            ["-p", P0, "-c", A, "--all", "-n", "7"],                                  // forward over pages, one content topic
            ["-p", P0, "-c", A, "-c", B, "--backward", "--all", "-n", "9"],           // backward, two content topics merged
            ["-p", P1, "--start", (T0 + 5_000).ToString(), "--end", (T0 + 20_000).ToString(), "--all", "-n", "5"], // time window, inclusive end
            ["-p", P1, "--backward", "--start", (T0 + 5_000).ToString(), "--all", "-n", "6"],
            ["-p", P1, "--all", "-n", "100"],                                          // pubsub topic only, largest page
            ["--all", "-n", "30"],                                                     // no filter: every topic merged
            ["-p", P0, "--hashes-only", "--all", "-n", "11"],                          // include_data = false
            ["--hash", some[1], "--hash", some[7], "--hash", "0x" + new string('a', 64)], // lookup, one unknown
            ["-p", P0, "--cursor", some[4], "-n", "4"],                                // explicit cursor
            ["-p", P0, "--backward", "--cursor", some[4], "-n", "4"],
            ["-p", P0, "--cursor", "0x" + new string('0', 63) + "1"],                  // cursor not in the store: 300
            ["-p", P0, "-c", "/nothing/1/x/proto"],                                    // nothing matches
            ["-p", P0, "-n", "0"],                                                     // default page size
        ];

        // Local answers first: the running node holds the store's lock.
        var locals = new List<(int ExitCode, string Stdout, string Stderr)>();
        foreach (var shape in shapes) locals.Add(await StoresyncProcess.RunAsync(null, ["query", "--data-dir", data, .. shape]));
        Assert.Contains(locals, l => l.ExitCode == 0);

        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { DataDir = data, Rest = false });
        foreach (var (shape, local) in shapes.Zip(locals))
        {
            var remote = await StoresyncProcess.RunAsync(null, ["query", "--peer", node.Address, "--data-dir", Path.Combine(_dir, "unused"), .. shape]);
            var label = string.Join(' ', shape);
            Assert.True(local.ExitCode == remote.ExitCode, $"{label}: exit {local.ExitCode} locally, {remote.ExitCode} remotely: {remote.Stderr}");
            if (shape.Contains("--all")) Assert.True(local.Stdout == remote.Stdout, $"{label}: outputs differ");
            else Assert.True(WithoutRequestId(local.Stdout) == WithoutRequestId(remote.Stdout), $"{label}: outputs differ:\n{local.Stdout}\n{remote.Stdout}");
            Assert.Equal(local.Stderr, remote.Stderr); // "N messages in M pages", or the same error
        }
        var walk = await StoresyncProcess.RunAsync(null, "query", "--peer", node.Address, "-p", P0, "-c", A, "--all", "-n", "7");
        Assert.Contains("27 messages in 4 pages", walk.Stderr);

        var wrongId = node.Address[..(node.Address.IndexOf("/p2p/", StringComparison.Ordinal) + 5)] + "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";
        var refused = await StoresyncProcess.RunAsync(null, "query", "--peer", wrongId, "-p", P0);
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("storesync: error:", refused.Stderr);
        var notAnAddress = await StoresyncProcess.RunAsync(null, "query", "--peer", "/ip4/127.0.0.1/tcp/1", "-p", P0);
        Assert.Equal(2, notAnAddress.ExitCode);
    }
}
