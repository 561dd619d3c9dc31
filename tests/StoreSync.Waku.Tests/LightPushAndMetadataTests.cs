using Google.Protobuf;
using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Testing;
using StoreSync.Testing.Libp2p;
using StoreSync.Waku.LightPush;
using StoreSync.Waku.Metadata;
using StoreSync.Waku.Proto;

namespace StoreSync.Waku.Tests;

public sealed class LightPushAndMetadataTests : IDisposable
{
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    CancellationToken Timeout => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    static WakuMessage Fresh(string payload) => new WakuMessage
    {
        Payload = ByteString.CopyFromUtf8(payload), ContentTopic = "/app/1/chat/proto", Timestamp = Timestamp.Now(),
    };

    [Fact]
    public async Task Light_push_v3_stores_valid_messages_and_names_what_it_refuses()
    {
        await using var node = await WakuNodeFixture.StartAsync();
        var message = Fresh("v3");
        var ok = LightpushResponse.Parser.ParseFrom(await node.RoundTripAsync(LightPushServer.ProtocolIdV3,
            new LightpushRequest { RequestId = "r1", PubsubTopic = "/waku/2/rs/1/0", Message = message }, Timeout));
        Assert.Equal((200u, "r1"), (ok.StatusCode, ok.RequestId));
        Assert.True(node.Store.Store.Contains(MessageHash.Compute("/waku/2/rs/1/0", message)));

        var wrongTopic = LightpushResponse.Parser.ParseFrom(await node.RoundTripAsync(LightPushServer.ProtocolIdV3,
            new LightpushRequest { RequestId = "r2", PubsubTopic = "/waku/2/rs/1/7", Message = Fresh("x") }, Timeout));
        Assert.Equal(WakuStatus.UnsupportedPubsubTopic, wrongTopic.StatusCode);

        var invalid = Fresh("y");
        invalid.ContentTopic = "not a topic";
        var refused = LightpushResponse.Parser.ParseFrom(await node.RoundTripAsync(LightPushServer.ProtocolIdV3,
            new LightpushRequest { RequestId = "r3", PubsubTopic = "/waku/2/rs/1/0", Message = invalid }, Timeout));
        Assert.Equal(WakuStatus.InvalidMessage, refused.StatusCode);
        Assert.Contains("content topic", refused.StatusDesc);
    }

    [Fact]
    public async Task Legacy_light_push_stores_too()
    {
        await using var node = await WakuNodeFixture.StartAsync();
        var message = Fresh("legacy");
        var rpc = PushRpc.Parser.ParseFrom(await node.RoundTripAsync(LightPushServer.ProtocolIdLegacy,
            new PushRpc { RequestId = "l1", Request = new PushRequest { PubsubTopic = "/waku/2/rs/1/1", Message = message } }, Timeout));
        Assert.True(rpc.Response.IsSuccess);
        Assert.Equal("l1", rpc.RequestId);
        Assert.True(node.Store.Store.Contains(MessageHash.Compute("/waku/2/rs/1/1", message)));
    }

    [Fact]
    public async Task Metadata_is_served_and_a_peer_of_another_cluster_is_dropped()
    {
        await using var node = await WakuNodeFixture.StartAsync(clusterId: 1);
        var response = WakuMetadataResponse.Parser.ParseFrom(await node.RoundTripAsync(MetadataProtocol.ProtocolId, new WakuMetadataRequest { ClusterId = 1 }, Timeout));
        Assert.Equal(1u, response.ClusterId);
        Assert.Equal([0u, 1u], response.Shards);

        await using var stranger = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new PlaintextSecurity() });
        new MetadataService(new MetadataProtocol(16, [32]), Microsoft.Extensions.Logging.Abstractions.NullLogger<MetadataService>.Instance).Attach(stranger);
        // Both sides check; whichever acts first closes the connection, so one of the two reasons names the cluster.
        var strangerSaw = new TaskCompletionSource<string>();
        var nodeSaw = new TaskCompletionSource<string>();
        stranger.PeerDisconnected += (_, reason) => strangerSaw.TrySetResult(reason);
        node.Server.PeerDisconnected += (_, reason) => nodeSaw.TrySetResult(reason);
        await stranger.DialAsync(node.Address, Timeout);
        var reasons = await Task.WhenAll(strangerSaw.Task.WaitAsync(Timeout), nodeSaw.Task.WaitAsync(Timeout));
        Assert.Contains(reasons, r => r.Contains("cluster"));
    }

    [Fact]
    public async Task A_relay_peer_with_no_shard_in_common_is_dropped_and_a_light_client_on_other_shards_is_kept()
    {
        var logs = new CollectingLoggerFactory();
        await using var node = new Libp2pHost(IdentityKey.Generate(KeyType.Secp256k1), new HostOptions { Security = new PlaintextSecurity() });
        new MetadataService(new MetadataProtocol(1, [0, 1]), logs.CreateLogger<MetadataService>()).Attach(node);
        await node.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], Timeout);

        async Task<Libp2pHost> PeerAsync(bool relay)
        {
            var peer = new Libp2pHost(IdentityKey.Generate(KeyType.Ed25519), new HostOptions { Security = new PlaintextSecurity() });
            new MetadataService(new MetadataProtocol(1, [32]), Microsoft.Extensions.Logging.Abstractions.NullLogger<MetadataService>.Instance).Attach(peer);
            if (relay) peer.SetStreamHandler(MetadataProtocol.RelayProtocolId, (_, _) => Task.CompletedTask); // announced in identify
            await peer.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], Timeout);
            return peer;
        }
        await using var relayPeer = await PeerAsync(relay: true);
        await using var lightClient = await PeerAsync(relay: false);

        var relayGone = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        relayPeer.PeerDisconnected += (_, reason) => relayGone.TrySetResult(reason);
        await relayPeer.DialAsync(node.ListenAddresses[0], Timeout);
        await relayGone.Task.WaitAsync(Timeout);
        Assert.Contains("no shards in common", await logs.WaitForAsync($"Disconnecting {relayPeer.PeerId}", TimeSpan.FromSeconds(20)));

        var kept = await lightClient.DialAsync(node.ListenAddresses[0], Timeout);
        await logs.WaitForAsync($"Metadata of {lightClient.PeerId} accepted", TimeSpan.FromSeconds(20));
        Assert.False(kept.IsClosed);
        Assert.True(await kept.PingAsync(Timeout) >= TimeSpan.Zero);
    }
}
