using System.Text.Json;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Testing.Interop;
using StoreSync.Testing.Node;
using StoreSync.Waku.Enr;

namespace StoreSync.Interop.Tests.Discovery;

/// <summary>The Waku fields of our node's record read by js-waku's @waku/enr 0.0.33 (tests/Interop/discovery/enr.mjs), and its records read by ours.</summary>
public class WakuEnrInteropTests
{
    static async Task<JsonElement> JsAsync(params string[] args)
    {
        var result = await NodeScript.RunAsync("discovery", "enr.mjs", args, TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"enr.mjs {args[0]} exited {result.ExitCode}: {result.Stderr}");
        return JsonDocument.Parse(result.Stdout.Trim()).RootElement;
    }

    [Fact]
    public async Task A_live_node_s_record_decodes_in_js_waku_with_its_capabilities_shards_and_websocket_address()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var node = await StoreNodeProcess.StartAsync("--discv5-discovery", "true", "--discv5-udp-port", "0",
            "--websocket-support", "true", "--websocket-port", "0", "--cluster-id", "7", "--shard", "0", "--shard", "3", "--shard", "5");
        using var http = new HttpClient { BaseAddress = node.Rest };
        var info = JsonDocument.Parse(await http.GetStringAsync("/debug/v1/info", cts.Token)).RootElement;
        var text = info.GetProperty("enrUri").GetString()!;
        var ours = EnrRecord.Parse(text);

        var theirs = await JsAsync("decode", text);
        Assert.True(theirs.GetProperty("verified").GetBoolean());
        Assert.Equal(node.PeerId, theirs.GetProperty("peerId").GetString());
        Assert.Equal(ours.NodeId.ToString(), theirs.GetProperty("nodeId").GetString());
        Assert.Equal("127.0.0.1", theirs.GetProperty("ip").GetString());
        Assert.Equal(node.Multiaddr.Components[1].Port, theirs.GetProperty("tcp").GetInt32());
        Assert.Equal(ours.Udp, (ushort)theirs.GetProperty("udp").GetInt32());

        // A store node with store sync: store and sync bits; lightpush only beside relay (nwaku's rule); no filter.
        var bits = (WakuCapabilities)theirs.GetProperty("waku2Byte").GetInt32();
        Assert.True(bits.HasFlag(WakuCapabilities.Store | WakuCapabilities.Sync), $"waku2 = {bits}");
        var waku2 = theirs.GetProperty("waku2");
        Assert.True(waku2.GetProperty("store").GetBoolean());
        Assert.False(waku2.GetProperty("filter").GetBoolean());
        Assert.Equal(waku2.GetProperty("relay").GetBoolean(), waku2.GetProperty("lightPush").GetBoolean());

        Assert.Equal(7, theirs.GetProperty("clusterId").GetInt32());
        Assert.Equal([0, 3, 5], theirs.GetProperty("shards").EnumerateArray().Select(s => s.GetInt32()).Order());
        var webSocket = Multiaddr.Parse(node.WebSocketAddress).WithoutPeerId().ToString();
        Assert.Equal([webSocket], theirs.GetProperty("multiaddrs").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task A_record_with_a_broken_signature_is_refused_by_js_waku()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var node = await StoreNodeProcess.StartAsync("--discv5-discovery", "true", "--discv5-udp-port", "0");
        using var http = new HttpClient { BaseAddress = node.Rest };
        var record = EnrRecord.Parse(JsonDocument.Parse(await http.GetStringAsync("/debug/v1/info", cts.Token)).RootElement.GetProperty("enrUri").GetString()!);
        var bytes = record.Encode().ToArray();
        bytes[10] ^= 0x01; // inside the 64-byte signature, after the list and string headers
        var result = await NodeScript.RunAsync("discovery", "enr.mjs", ["decode", "enr:" + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_')], TimeSpan.FromSeconds(60));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Unable to verify ENR signature", result.Stderr);
        Assert.False(EnrRecord.TryDecode(bytes, out _, out _));
    }

    [Fact]
    public async Task A_record_made_by_js_waku_decodes_in_ours()
    {
        var made = await JsAsync("encode", "--ip", "127.0.0.1", "--tcp", "60010", "--udp", "9010", "--waku2", "11", "--cluster", "1",
            "--shards", "2,4,6", "--multiaddr", "/ip4/127.0.0.1/tcp/8010/ws", "--multiaddr", "/dns4/node.example.org/tcp/443/wss");
        var record = EnrRecord.Parse(made.GetProperty("enr").GetString()!);
        Assert.Equal(made.GetProperty("nodeId").GetString(), record.NodeId.ToString());
        Assert.Equal(made.GetProperty("peerId").GetString(), EnrPeerInfo.PeerIdOf(record).ToString());
        Assert.Equal(WakuCapabilities.Relay | WakuCapabilities.Store | WakuCapabilities.Lightpush, WakuEnr.WakuCapabilitiesOf(record));
        var shards = WakuEnr.RelayShardsOf(record)!;
        Assert.Equal((ushort)1, shards.ClusterId);
        Assert.Equal([2, 4, 6], shards.Shards);
        Assert.Equal([Multiaddr.Parse("/ip4/127.0.0.1/tcp/8010/ws"), Multiaddr.Parse("/dns4/node.example.org/tcp/443/wss")], WakuEnr.MultiaddrsOf(record));
        Assert.Equal([Multiaddr.Parse($"/ip4/127.0.0.1/tcp/60010/p2p/{made.GetProperty("peerId").GetString()}")], EnrPeerInfo.TcpMultiaddrs(record));
        Assert.Equal((ushort?)9010, record.Udp);
    }
}
