using System.Net;
using StoreSync.Libp2p.Discovery.Discv5;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Testing.Interop;

namespace StoreSync.Interop.Tests.Discovery;

/// <summary>Our discv5 node against @chainsafe/discv5 over UDP on 127.0.0.1: records, PING, TALKREQ, and lookups through each other.</summary>
public class Discv5InteropTests
{
    static readonly TimeSpan JsTimeout = TimeSpan.FromSeconds(40);

    static CancellationToken Within(int seconds) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    static Discv5Node StartNode(Action<EnrBuilder>? configure = null, params EnrRecord[] bootstrap) =>
        Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1), new Discv5Options
        {
            ListenAddress = IPAddress.Loopback,
            BootstrapNodes = bootstrap,
            ConfigureRecord = configure,
            RequestTimeout = TimeSpan.FromSeconds(3),
        });

    [Fact]
    public async Task Their_record_decodes_in_ours_and_ours_in_theirs()
    {
        var ct = Within(90);
        await using var js = await JsDiscv5Peer.StartAsync(ct);
        var theirs = EnrRecord.Parse(js.Enr);
        Assert.Equal(js.NodeId, theirs.NodeId.ToString());
        Assert.Equal(IPAddress.Loopback, theirs.Ip);
        Assert.Equal((ushort)js.Port, theirs.Udp);
        Assert.Equal(js.Enr, theirs.ToText());

        await using var ours = StartNode(b => b.Set("storesync", [0xca, 0xfe]).SetTcp(60000));
        var decoded = await js.RunAsync("decode", new { enr = ours.LocalRecord.ToText() }, JsTimeout, ct);
        Assert.Equal(ours.LocalId.ToString(), decoded["nodeId"]!.GetValue<string>());
        Assert.Equal((double)ours.LocalRecord.Seq, decoded["seq"]!.GetValue<double>());
        Assert.Equal(ours.LocalEndPoint.Port, decoded["udp"]!.GetValue<int>());
        Assert.Equal("127.0.0.1", decoded["ip"]!.GetValue<string>());
        Assert.Equal("cafe", decoded["kvs"]!["storesync"]!.GetValue<string>());
        Assert.Equal(Convert.ToHexStringLower(ours.LocalRecord.PublicKey.Span), decoded["publicKey"]!.GetValue<string>());
        Assert.Equal(ours.LocalRecord.ToText(), decoded["enr"]!.GetValue<string>());
    }

    [Fact]
    public async Task Each_side_pings_the_other()
    {
        var ct = Within(120);
        await using var js = await JsDiscv5Peer.StartAsync(ct);
        await using var ours = StartNode();
        var pong = await js.RunAsync("ping", new { enr = ours.LocalRecord.ToText() }, JsTimeout, ct);
        Assert.Equal((double)ours.LocalRecord.Seq, pong["enrSeq"]!.GetValue<double>());
        Assert.Equal(js.Port, pong["port"]!.GetValue<int>());

        var theirs = EnrRecord.Parse(js.Enr);
        var ourPong = await ours.PingAsync(theirs, ct);
        Assert.Equal(theirs.Seq, ourPong.EnrSeq);
        Assert.Equal(ours.LocalEndPoint.Port, ourPong.RecipientPort);

        // Our TALKREQ answer is empty: no talk protocol is served.
        var talk = await js.RunAsync("talk", new { enr = ours.LocalRecord.ToText() }, JsTimeout, ct);
        Assert.Equal(0, talk["length"]!.GetValue<int>());
    }

    [Fact]
    public async Task Chainsafe_finds_our_node_through_a_lookup_via_another_of_ours()
    {
        var ct = Within(150);
        await using var entry = StartNode();
        await using var hidden = StartNode(null, entry.LocalRecord);
        // hidden has pinged entry at start; entry holds it once the handshake from its advertised address is done.
        for (int i = 0; i < 100 && entry.Table.Get(hidden.LocalId) is null; i++) await Task.Delay(100, ct);
        Assert.NotNull(entry.Table.Get(hidden.LocalId));

        await using var js = await JsDiscv5Peer.StartAsync(ct);
        await js.RunAsync("addEnr", new { enr = entry.LocalRecord.ToText() }, JsTimeout, ct);
        var found = await js.RunAsync("lookup", new { target = hidden.LocalId.ToString() }, JsTimeout, ct);
        var ids = found["enrs"]!.AsArray().Select(e => e!["nodeId"]!.GetValue<string>()).ToList();
        Assert.Contains(hidden.LocalId.ToString(), ids);
        var record = found["enrs"]!.AsArray().First(e => e!["nodeId"]!.GetValue<string>() == hidden.LocalId.ToString())!;
        Assert.Equal(hidden.LocalRecord.ToText(), record["enr"]!.GetValue<string>());
    }

    [Fact]
    public async Task Our_node_finds_a_chainsafe_node_through_a_lookup_via_another_chainsafe_node()
    {
        var ct = Within(150);
        await using var entry = await JsDiscv5Peer.StartAsync(ct);
        await using var hidden = await JsDiscv5Peer.StartAsync(ct);
        await entry.RunAsync("addEnr", new { enr = hidden.Enr }, JsTimeout, ct);

        await using var ours = StartNode(null, EnrRecord.Parse(entry.Enr));
        var target = NodeId.Parse(hidden.NodeId);
        List<EnrRecord> found = [];
        for (int round = 0; round < 5 && !found.Exists(r => r.NodeId == target); round++)
            found = await ours.LookupAsync(target, ct);
        var record = Assert.Single(found, r => r.NodeId == target);
        Assert.Equal(hidden.Enr, record.ToText());
        Assert.Equal((ushort)hidden.Port, record.Udp);
        Assert.Equal((0L, 0L), ours.RefusedRecords);
    }
}
