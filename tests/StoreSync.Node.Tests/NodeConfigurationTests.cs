using System.Net;
using StoreSync.Libp2p.Discovery.Dns;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Node.Hosting;

namespace StoreSync.Node.Tests;

public sealed class NodeConfigurationTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("storesync-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static IReadOnlyDictionary<string, string?> Flags(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => (string?)p.Value);

    [Fact]
    public void Defaults_serve_cluster_1_shards_0_to_7_on_port_60000()
    {
        var options = NodeConfiguration.Load(null, Flags(), _dir);
        Assert.Equal(1u, options.ClusterId);
        Assert.Equal(60000, options.TcpPort);
        Assert.Equal("127.0.0.1", options.RestAddress);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"/waku/2/rs/1/{i}"), options.ServedPubsubTopics());
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Flags_override_the_file_and_replace_lists_rather_than_merge()
    {
        File.WriteAllText(Path.Combine(_dir, "appsettings.json"), """{"StoreSync":{"ClusterId":16,"Shards":[32,64],"TcpPort":61000}}""");
        var fromFile = NodeConfiguration.Load(null, Flags(), _dir);
        Assert.Equal(16u, fromFile.ClusterId);
        Assert.Equal([32u, 64u], fromFile.Shards);

        var withFlags = NodeConfiguration.Load(null, Flags(("Shards:0", "5"), ("TcpPort", "0")), _dir);
        Assert.Equal([5u], withFlags.Shards);
        Assert.Equal(0, withFlags.TcpPort);
        Assert.Equal(16u, withFlags.ClusterId);
    }

    [Fact]
    public void A_misspelt_setting_or_a_bad_value_is_an_error_that_names_it()
    {
        File.WriteAllText(Path.Combine(_dir, "appsettings.json"), """{"StoreSync":{"TcpPrt":1}}""");
        Assert.Contains("TcpPrt", Assert.Throws<InvalidOperationException>(() => NodeConfiguration.Load(null, Flags(), _dir)).Message);
        File.WriteAllText(Path.Combine(_dir, "appsettings.json"), """{"StoreSync":{"TcpPort":"abc"}}""");
        Assert.Contains("TcpPort", Assert.Throws<InvalidOperationException>(() => NodeConfiguration.Load(null, Flags(), _dir)).Message);
    }

    [Fact]
    public void Store_sync_settings_default_to_nwakus_and_are_bounded()
    {
        var options = NodeConfiguration.Load(null, Flags(), _dir);
        Assert.True(options.StoreSync);
        Assert.Equal((300, 3600, 20, 3600, 2), (options.StoreSyncInterval, options.StoreSyncRange, options.StoreSyncRelayJitter,
            options.StoreSyncHistoryInterval, options.StoreSyncMaxConcurrentPeers));
        var bad = NodeConfiguration.Load(null, Flags(("StoreSyncInterval", "0"), ("StoreSyncRelayJitter", "-1"), ("StoreSyncMaxConcurrentPeers", "0")), _dir);
        var errors = string.Join("\n", bad.Validate());
        Assert.Contains("--store-sync-interval", errors);
        Assert.Contains("--store-sync-relay-jitter", errors);
        Assert.Contains("--store-sync-max-concurrent-peers", errors);
    }

    [Fact]
    public void Entry_nodes_go_where_their_kind_belongs()
    {
        var record = new EnrBuilder().SetIp(IPAddress.Loopback).SetTcp(60001).SetUdp(9001).Sign(Secp256k1Signatures.GeneratePrivateKey());
        var tree = EnrTreeUrl.Create(Secp256k1Signatures.PublicKeyOf(Secp256k1Signatures.GeneratePrivateKey()), "boot.example.org").ToString();
        const string Static = "/dns4/boot-01.example.org/tcp/30303/p2p/16Uiu2HAmAR24Mbb6VuzoyUiGx42UenDkshENVDj4qnmmbabLvo31";
        var options = NodeConfiguration.Load(null, Flags(("EntryNodes:0", tree), ("EntryNodes:1", record.ToText()), ("EntryNodes:2", Static)), _dir);
        Assert.Empty(options.Validate());
        Assert.Equal(tree, options.DnsDiscoveryTree()!.ToString());
        Assert.Equal([record.ToText()], options.AllDiscv5BootstrapNodes());
        Assert.Equal([Static, $"/ip4/127.0.0.1/tcp/60001/p2p/{EnrPeerInfo.PeerIdOf(record)}"], options.AllStaticNodes());
        Assert.Empty(options.StaticNodes); // the operator's own list is left as given
    }

    [Fact]
    public void A_bad_entry_node_is_an_error_that_names_it()
    {
        var key = Secp256k1Signatures.GeneratePrivateKey();
        var noTcp = new EnrBuilder().SetIp(IPAddress.Loopback).SetUdp(9001).Sign(key).ToText();
        string Tree(string domain) => EnrTreeUrl.Create(Secp256k1Signatures.PublicKeyOf(key), domain).ToString();
        var options = NodeConfiguration.Load(null, Flags(
            ("EntryNodes:0", "boot.example.org"), ("EntryNodes:1", "enr:-notarecord"), ("EntryNodes:2", noTcp),
            ("EntryNodes:3", "/ip4/127.0.0.1/tcp/60000"), ("EntryNodes:4", Tree("a.example.org")), ("EntryNodes:5", Tree("b.example.org")),
            ("EntryNodes:6", "enrtree://NOTAKEY@c.example.org")), _dir);
        var errors = string.Join("\n", options.Validate());
        Assert.Contains("'boot.example.org': not enrtree://…, enr:… or a multiaddr", errors);
        Assert.Contains("(--entry-node) 'enr:-notarecord'", errors);
        Assert.Contains("has no ip and tcp to dial, and discv5 is off", errors);
        Assert.Contains("'/ip4/127.0.0.1/tcp/60000': the multiaddr does not end in /p2p/<peer id>", errors);
        Assert.Contains("more than one enrtree:// tree", errors);
        Assert.Contains("(--entry-node) 'enrtree://NOTAKEY@c.example.org'", errors);
        // With discv5 on, a record without tcp is a bootstrap node only, which is fine.
        var discv5 = NodeConfiguration.Load(null, Flags(("EntryNodes:0", noTcp), ("Discv5Discovery", "true")), _dir);
        Assert.Empty(discv5.Validate());
        Assert.Empty(discv5.AllStaticNodes());
    }

    [Fact]
    public void The_metrics_listener_needs_an_ipv4_address_and_a_fixed_port()
    {
        var errors = string.Join("\n", NodeConfiguration.Load(null, Flags(("MetricsServerAddress", "::1"), ("MetricsServerPort", "0")), _dir).Validate());
        Assert.Contains("'::1': the metrics listener (.NET's HttpListener) takes IPv4 addresses only", errors);
        Assert.Contains("MetricsServerPort (--metrics-server-port) 0: the metrics listener cannot pick a free port", errors);
        Assert.Empty(NodeConfiguration.Load(null, Flags(("MetricsServer", "false"), ("MetricsServerAddress", "::1"), ("MetricsServerPort", "0")), _dir).Validate());
    }

    [Fact]
    public void A_named_config_file_must_exist()
    {
        Assert.Throws<FileNotFoundException>(() => NodeConfiguration.Load("missing.json", Flags(), _dir));
    }

    [Fact]
    public void Validation_lists_every_problem()
    {
        var options = new NodeOptions { ClusterId = 70000, TcpPort = 70000, RestAddress = "nowhere", StoreMaxPageSize = 500, Shards = [], PubsubTopics = ["bad topic"] };
        var errors = options.Validate();
        Assert.Contains(errors, e => e.Contains("--cluster-id"));
        Assert.Contains(errors, e => e.Contains("--tcp-port"));
        Assert.Contains(errors, e => e.Contains("--rest-address"));
        Assert.Contains(errors, e => e.Contains("--store-max-page-size"));
        Assert.Contains(errors, e => e.Contains("--pubsub-topic"));
    }

    [Theory]
    [InlineData("store:100/1s", "store", 100, 1000)]
    [InlineData("storev3:10/500ms", "store", 10, 500)]
    [InlineData("lightpush:30/1m", "lightpush", 30, 60_000)]
    [InlineData("5/2h", null, 5, 7_200_000)]
    public void Rate_limits_read_nwakus_syntax(string text, string? protocol, int volume, long periodMs)
    {
        Assert.True(RateLimitSetting.TryParse(text, out var setting, out var error), error);
        Assert.Equal(new RateLimitSetting(protocol, volume, TimeSpan.FromMilliseconds(periodMs)), setting);
    }

    [Theory]
    [InlineData("filter:1/1s", "protocol 'filter'")]
    [InlineData("store:0/1s", "positive")]
    [InlineData("store:1/0s", "positive")]
    [InlineData("store:ten/1s", "is not")]
    [InlineData("store:1/1d", "is not")]
    public void Bad_rate_limits_are_refused_with_the_reason(string text, string reason)
    {
        Assert.False(RateLimitSetting.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
        Assert.Contains(new NodeOptions { RateLimits = [text] }.Validate(), e => e.Contains("--rate-limit"));
    }

    [Fact]
    public void A_protocols_own_rate_limit_beats_a_global_one_and_the_per_second_settings()
    {
        Assert.Equal((50, 100), new NodeOptions().StoreRateLimit());
        Assert.Equal((0, 1), new NodeOptions { StoreQueriesPerSecondPerPeer = 0 }.StoreRateLimit()); // 0 = unlimited
        var options = new NodeOptions { RateLimits = ["lightpush:4/2s", "30/1s"], StoreQueriesPerSecondPerPeer = 7 };
        Assert.Equal((30, 30), options.StoreRateLimit());
        Assert.Equal((2, 4), options.LightPushRateLimit());
        Assert.Equal((2, 4), new NodeOptions { RateLimits = ["30/1s", "lightpush:4/2s"] }.LightPushRateLimit());
        var fromFlags = NodeConfiguration.Load(null, Flags(("RateLimits:0", "store:9/1s")), _dir);
        Assert.Equal((9, 9), fromFlags.StoreRateLimit());
    }

    [Theory]
    [InlineData("150KiB", 153_600)]
    [InlineData("200KB", 200_000)]
    [InlineData("1500 B", 1500)]
    [InlineData("2048", 2048)]
    [InlineData("64kib", 65_536)]
    public void Message_sizes_read_nwakus_units(string text, int bytes)
    {
        Assert.True(NodeOptions.TryParseMessageSize(text, out int parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("KiB")]
    [InlineData("-5B")]
    [InlineData("1.5KiB")]
    [InlineData("3MiB")]
    [InlineData("99999999999KiB")]
    public void Bad_message_sizes_are_refused(string text) => Assert.False(NodeOptions.TryParseMessageSize(text, out _));
}
