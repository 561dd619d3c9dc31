using System.Buffers.Text;
using System.Text.Json;
using StoreSync.Libp2p.Discovery.Dns;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Testing.Dns;
using StoreSync.Testing.Node;
using Xunit.Abstractions;

namespace StoreSync.Node.Tests;

/// <summary>Issue 16 proof 4: a node given only <c>--dns-discovery-url</c> and a name server on loopback bootstraps from an
/// EIP-1459 tree (served by <see cref="LoopbackDnsServer"/>, signed here) that lists another node's record: it connects and
/// syncs the other node's message. The same tree with a broken root signature is refused: logged, nothing dialed.</summary>
public sealed class DnsDiscoveryProcessTests(ITestOutputHelper output)
{
    const string Topic = "/waku/2/rs/1/0";
    const string Domain = "nodes.storesync.test";
    static readonly string[] Flags = ["--shard", "0", "--store-sync-interval", "2", "--store-sync-history-interval", "4", "--store-sync-relay-jitter", "0"];

    static async Task<JsonElement> PeersAsync(StoreNodeProcess node, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(30) };
        return JsonDocument.Parse(await http.GetStringAsync("/admin/v1/figures", ct)).RootElement.GetProperty("global").GetProperty("peers");
    }

    static async Task<JsonElement> HealthAsync(StoreNodeProcess node, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(30) };
        return JsonDocument.Parse(await http.GetStringAsync("/health", ct)).RootElement;
    }

    static (int Known, int Connected) Dns(JsonElement peers)
    {
        var dns = peers.GetProperty("bySource").GetProperty("dns-discovery");
        return (dns.GetProperty("known").GetInt32(), dns.GetProperty("connected").GetInt32());
    }

    static async Task<(StoreNodeProcess B, EnrRecord Record)> StartListedNodeAsync(CancellationToken ct)
    {
        var b = await StoreNodeProcess.StartAsync([.. Flags, "--discv5-discovery", "true", "--discv5-udp-port", "0"]);
        return (b, await b.RecordAsync(ct));
    }

    static string[] FlagsOfA(byte[] treeKey, LoopbackDnsServer dns) =>
    [
        .. Flags, "--dns-discovery-url", EnrTreeUrl.Create(Secp256k1Signatures.PublicKeyOf(treeKey), Domain).ToString(),
        "--dns-addrs-name-server", dns.EndPoint.ToString(),
    ];

    [Fact]
    public async Task A_node_bootstraps_from_a_signed_tree_and_syncs_from_the_node_it_lists()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var ct = cts.Token;
        await using var dns = new LoopbackDnsServer();
        var key = Secp256k1Signatures.GeneratePrivateKey();
        var (b, record) = await StartListedNodeAsync(ct);
        await using var _ = b;
        // One good record and one that is not a record: the bad one is refused, the rest of the signed list still used.
        dns.ServeOn(EnrTreePublisher.Publish(Domain, key, [record.ToText(), "enr:-notarecord"], []));

        await b.LightPushAsync(Topic, "/dns/1/proof/proto", "listed by dns", ct);

        await using var a = await StoreNodeProcess.StartAsync(FlagsOfA(key, dns));
        await a.WaitForOutputAsync("DNS discovery of enrtree://", ct);
        // Polled, bounded by the token: connected to B through the book's dns-discovery entry, and B's message synced.
        JsonElement peers = default;
        long stored = 0;
        while (!ct.IsCancellationRequested)
        {
            peers = await PeersAsync(a, ct);
            stored = (await HealthAsync(a, ct)).GetProperty("storedMessages").GetInt64();
            if (Dns(peers).Connected >= 1 && stored == 1) break;
            try { await Task.Delay(250, ct); } catch (OperationCanceledException) { }
        }
        output.WriteLine(peers.ToString());
        Assert.True(Dns(peers) is { Known: 1, Connected: 1 }, $"{peers}\n{a.Output}");
        Assert.Equal(1, stored);
        Assert.Contains("1 refused", a.Output, StringComparison.Ordinal);
        Assert.True(dns.Queries >= 3); // root, then the record subtree's branch and leaves
    }

    [Fact]
    public async Task Entry_nodes_alone_bootstrap_a_node_from_a_tree_and_a_record()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var ct = cts.Token;
        await using var dns = new LoopbackDnsServer();
        var key = Secp256k1Signatures.GeneratePrivateKey();
        var (b, recordB) = await StartListedNodeAsync(ct);
        await using var _ = b;
        var (c, recordC) = await StartListedNodeAsync(ct);
        await using var __ = c;
        dns.ServeOn(EnrTreePublisher.Publish(Domain, key, [recordB.ToText()], []));

        // logos-delivery's --entry-node: the tree goes to DNS discovery, C's record is dialled from its ip/tcp (a static peer).
        await using var a = await StoreNodeProcess.StartAsync(
        [
            .. Flags, "--entry-node", EnrTreeUrl.Create(Secp256k1Signatures.PublicKeyOf(key), Domain).ToString(),
            "--entry-node", recordC.ToText(), "--dns-addrs-name-server", dns.EndPoint.ToString(),
        ]);
        await a.WaitForOutputAsync("DNS discovery of enrtree://", ct);
        JsonElement peers = default;
        while (!ct.IsCancellationRequested)
        {
            peers = await PeersAsync(a, ct);
            var statics = peers.GetProperty("bySource").GetProperty("static").GetProperty("connected").GetInt32();
            if (Dns(peers).Connected >= 1 && statics >= 1) break;
            try { await Task.Delay(250, ct); } catch (OperationCanceledException) { }
        }
        output.WriteLine(peers.ToString());
        Assert.True(Dns(peers) is { Known: 1, Connected: 1 }, $"{peers}\n{a.Output}");
        Assert.Equal(1, peers.GetProperty("bySource").GetProperty("static").GetProperty("connected").GetInt32());
        Assert.Equal(2, (await HealthAsync(a, ct)).GetProperty("connectedPeers").GetInt32());
    }

    [Fact]
    public async Task A_tree_with_a_broken_root_signature_is_refused_and_nothing_is_dialed()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = cts.Token;
        await using var dns = new LoopbackDnsServer();
        var key = Secp256k1Signatures.GeneratePrivateKey();
        var (b, record) = await StartListedNodeAsync(ct);
        await using var _ = b;
        var tree = EnrTreePublisher.Publish(Domain, key, [record.ToText()], []);
        // The same tree, its root's signature with one bit of r flipped: still 65 bytes of base64url, no longer valid.
        var root = EnrTreeRoot.Parse(tree[Domain]);
        var signature = root.Signature.ToArray();
        signature[7] ^= 0x10;
        tree[Domain] = (root with { Signature = signature }).ToString();
        Assert.StartsWith(root.SignedText + " sig=", tree[Domain], StringComparison.Ordinal);
        Assert.NotEqual(Base64Url.EncodeToString(root.Signature.Span), Base64Url.EncodeToString(signature));
        dns.ServeOn(tree);

        await using var a = await StoreNodeProcess.StartAsync(FlagsOfA(key, dns));
        await a.WaitForOutputAsync("DNS discovery refused the tree", ct);
        Assert.Contains("not signed by the URL's key; nothing from it is dialed", a.Output, StringComparison.Ordinal);
        // The refusal is logged when the walk ends, and nothing is offered on that path: the book holds no DNS peer and
        // neither node has a connection (A has no other source; B dials no one).
        var peers = await PeersAsync(a, ct);
        Assert.Equal((0, 0), Dns(peers));
        Assert.Equal(0, peers.GetProperty("known").GetInt32());
        Assert.Equal(0, (await HealthAsync(a, ct)).GetProperty("connectedPeers").GetInt32());
        Assert.Equal(0, (await HealthAsync(b, ct)).GetProperty("connectedPeers").GetInt32());
        Assert.Equal(1, dns.Queries); // only the root was read
    }

    [Fact]
    public async Task A_bad_tree_url_or_name_server_is_a_configuration_error_naming_the_flag()
    {
        var data = Path.Combine(Path.GetTempPath(), "storesync-dns-" + Guid.NewGuid().ToString("N"));
        var result = await StoresyncProcess.RunAsync(null, "node", "--data-dir", data,
            "--dns-discovery-url", "enrtree://NOTAKEY@nodes.example.org", "--dns-addrs-name-server", "not-an-ip:53");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("DnsDiscoveryUrl (--dns-discovery-url) 'enrtree://NOTAKEY@nodes.example.org'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("(--dns-addrs-name-server) 'not-an-ip:53' is not an IP address or IP:port", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data));
    }
}
