using StoreSync.Node.Hosting;

namespace StoreSync.Node.Tests;

/// <summary>nwaku's --preset, --cluster-id, --shard, --num-shards-in-network and --rln-relay (spec/relay.md §11).</summary>
public sealed class NetworkPresetTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-preset-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static IReadOnlyDictionary<string, string?> Flags(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => (string?)p.Value);

    NodeOptions Load(params (string Key, string Value)[] flags) => NodeConfiguration.Load(null, Flags(flags), _dir);

    [Fact]
    public void Twn_is_cluster_1_with_shards_0_to_7_of_8_and_requires_rln()
    {
        var options = Load(("Preset", "twn"));
        Assert.Equal(1u, options.ClusterId);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (uint)i), options.Shards);
        Assert.Equal(8u, options.NumShardsInNetwork);
        Assert.True(options.RlnRequired);
        Assert.Equal(150 * 1024, options.MaxMessageBytes);
        Assert.Equal(new Waku.Relay.RelayOptions(1, true, 150 * 1024, 8), options.RelaySettings());
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData("status.prod")]
    [InlineData("statusprod")]
    [InlineData("Status.Prod")]
    public void Status_prod_is_cluster_16_with_statuss_shards_and_no_rln(string name)
    {
        var options = Load(("Preset", name));
        Assert.Equal(16u, options.ClusterId);
        Assert.Equal([1u, 32u, 64u, 128u, 256u], options.Shards);
        Assert.Equal(0u, options.NumShardsInNetwork);
        Assert.False(options.RlnRequired);
        Assert.Equal(1024 * 1024, options.MaxMessageBytes);
        Assert.Equal(["/waku/2/rs/16/1", "/waku/2/rs/16/32", "/waku/2/rs/16/64", "/waku/2/rs/16/128", "/waku/2/rs/16/256"], options.ServedPubsubTopics());
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Explicit_settings_override_the_preset_whatever_their_source()
    {
        var flags = Load(("Preset", "status.prod"), ("Shards:0", "32"), ("MaxMessageBytes", "153600"));
        Assert.Equal((16u, 153600), (flags.ClusterId, flags.MaxMessageBytes));
        Assert.Equal([32u], flags.Shards);
        var rlnOff = Load(("Preset", "twn"), ("RlnRelay", "false"));
        Assert.False(rlnOff.RlnRequired);
        Assert.Equal(8u, rlnOff.NumShardsInNetwork);

        File.WriteAllText(Path.Combine(_dir, "appsettings.json"), """{"StoreSync":{"Preset":"twn","Shards":[3]}}""");
        var file = Load();
        Assert.Equal((1u, 8u), (file.ClusterId, file.NumShardsInNetwork));
        Assert.Equal([3u], file.Shards);
        var flagPreset = Load(("Preset", "status.prod"));
        Assert.Equal(16u, flagPreset.ClusterId); // the flag's preset, the file's shards
        Assert.Equal([3u], flagPreset.Shards);
    }

    [Fact]
    public void Without_a_preset_rln_is_required_on_cluster_1_only_unless_set()
    {
        Assert.True(Load().RlnRequired);
        Assert.False(Load(("ClusterId", "16")).RlnRequired);
        Assert.True(Load(("ClusterId", "16"), ("RlnRelay", "true")).RlnRequired);
        Assert.False(Load(("RlnRelay", "false")).RlnRequired);
        Assert.True(Load().Relay);
        Assert.Equal(0u, Load().NumShardsInNetwork);
    }

    [Theory]
    [InlineData("--preset nope", "--preset", 1)]
    [InlineData("--shard 1024", "--shard", 1)]
    [InlineData("--cluster-id 70000", "--cluster-id", 1)]
    [InlineData("--cluster-id abc", "--cluster-id", 2)]
    [InlineData("--num-shards-in-network 1025", "--num-shards-in-network", 1)]
    [InlineData("--preset twn --shard 8", "--num-shards-in-network", 1)]
    [InlineData("--num-shards-in-network -1", "--num-shards-in-network", 2)]
    public async Task A_bad_network_value_stops_the_node_naming_the_flag(string args, string flag, int exitCode)
    {
        // A value of the wrong type is a parse error (2); a well-formed but invalid value is a configuration error (1),
        // reported together with every other configuration error.
        var (exit, _, stderr) = await StoresyncProcess.RunAsync(null, ["node", "--data-dir", Path.Combine(_dir, "data"), .. args.Split(' ')]);
        Assert.Equal(exitCode, exit);
        Assert.Contains(flag, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "data")), "nothing is created before the configuration is checked");
    }
}
