using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using StoreSync.Libp2p.Discovery.Discv5;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Testing;

namespace StoreSync.Libp2p.Tests.Discovery.Discv5;

/// <summary>Peers that lie or flood: a hand-driven session layer on its own socket plays them.</summary>
public class Discv5BadPeerTests
{
    static CancellationToken Within(int seconds) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    /// <summary>A bare session layer with its own key, record and socket.</summary>
    sealed class RawPeer : IDisposable
    {
        public readonly Socket Socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        public readonly byte[] Key = Secp256k1Signatures.GeneratePrivateKey();
        public readonly EnrRecord Record;
        public readonly SessionLayer Layer;
        readonly CancellationTokenSource _stop = new();

        public RawPeer(IPAddress address)
        {
            Socket.Bind(new IPEndPoint(address, 0));
            var ep = (IPEndPoint)Socket.LocalEndPoint!;
            Record = new EnrBuilder().SetIp(ep.Address).SetUdp((ushort)ep.Port).Sign(Key);
            Layer = new SessionLayer(Socket, Key, Record.NodeId, () => Record, _ => null, TimeProvider.System);
            _ = Task.Run(() => Layer.RunAsync(_stop.Token));
        }

        public void Dispose()
        {
            _stop.Cancel();
            Socket.Dispose();
            Layer.Dispose();
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task Records_that_are_invalid_or_at_distances_not_asked_are_refused()
    {
        await using var node = Discv5NodeTests.StartNode();
        using var liar = new RawPeer(IPAddress.Loopback);
        var key = IdentityKey.Generate(KeyType.Secp256k1);
        var someone = new EnrBuilder().SetIp(IPAddress.Loopback).SetUdp(1).Sign(key);
        var forged = someone.ToArray();
        forged[5] ^= 1;
        liar.Layer.MessageReceived += (from, _, message) =>
        {
            if (message is FindNodeMessage find)
                liar.Layer.SendResponse(from, new NodesMessage(find.RequestId, 1, [liar.Record.ToArray(), someone.ToArray(), forged]));
        };
        int d = NodeId.LogDistance(liar.Record.NodeId, someone.NodeId);
        var asked = new List<int> { 0 };
        if (d != 0) asked.Add(d == 256 ? 255 : d + 1); // a distance that is not someone's
        var found = await node.FindNodeAsync(liar.Record, asked, Within(20));
        Assert.Equal(liar.Record.NodeId, Assert.Single(found).NodeId);
        Assert.Equal((1L, 1L), node.RefusedRecords);
    }

    [Fact]
    public async Task Talk_requests_get_an_empty_answer()
    {
        await using var node = Discv5NodeTests.StartNode();
        using var peer = new RawPeer(IPAddress.Loopback);
        var answer = new TaskCompletionSource<TalkResponseMessage>();
        peer.Layer.MessageReceived += (_, _, m) =>
        {
            if (m is TalkResponseMessage talk) answer.TrySetResult(talk);
        };
        var ep = node.LocalEndPoint;
        for (int attempt = 0; attempt < 10 && !answer.Task.IsCompleted; attempt++)
        {
            peer.Layer.SendRequest(node.LocalRecord, ep, new TalkRequestMessage([1], "some-protocol"u8.ToArray(), [1, 2]));
            await Task.WhenAny(answer.Task, Task.Delay(500));
        }
        var response = await answer.Task.WaitAsync(Within(10));
        Assert.Empty(response.Response);
        Assert.Equal([1], response.RequestId);
    }

    [Fact]
    public async Task A_findnode_flood_from_one_address_is_cut_to_its_rate_and_others_are_still_answered()
    {
        await using var node = Discv5NodeTests.StartNode();
        using var flooder = new RawPeer(IPAddress.Loopback);
        int answers = 0;
        var handshaken = new TaskCompletionSource();
        flooder.Layer.MessageReceived += (_, _, m) =>
        {
            if (m is PongMessage) handshaken.TrySetResult();
            if (m is NodesMessage) Interlocked.Increment(ref answers);
        };
        for (int attempt = 0; attempt < 10 && !handshaken.Task.IsCompleted; attempt++)
        {
            flooder.Layer.SendRequest(node.LocalRecord, node.LocalEndPoint, new PingMessage([9], 1));
            await Task.WhenAny(handshaken.Task, Task.Delay(500));
        }
        await handshaken.Task.WaitAsync(Within(10));

        const int Flood = 5000;
        var started = DateTime.UtcNow;
        for (int i = 0; i < Flood; i++)
        {
            flooder.Layer.SendRequest(node.LocalRecord, node.LocalEndPoint, new FindNodeMessage(BitConverter.GetBytes(i), [0, 1, 2]));
            // Paced a little, so the kernel's socket buffers (not the node) are not what drops most of it.
            if (i % 50 == 49) await Task.Delay(2);
        }
        await Polling.WaitUntil(() => node.Dropped(PacketDropReason.RateLimited) + Volatile.Read(ref answers) >= Flood / 2, "the flood is handled", 60);
        var seconds = (DateTime.UtcNow - started).TotalSeconds + 1;

        // Each answered FINDNODE cost 1 + 4 tokens: at most the burst plus what the refill allowed in the time taken.
        double allowed = (Discv5Limits.RateLimitBurst + Discv5Limits.RateLimitPerSecond * seconds) / (1 + Discv5Limits.FindNodeCost);
        Assert.InRange(Volatile.Read(ref answers), 1, allowed);
        Assert.True(node.Dropped(PacketDropReason.RateLimited) >= Flood / 4);

        // Another source address (127.0.0.2 is loopback too) has its own budget.
        await using var other = Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1), new Discv5Options { ListenAddress = IPAddress.Parse("127.0.0.2") });
        await other.PingAsync(node.LocalRecord, Within(20));
    }

    [Fact]
    public void The_rate_limiter_refills_over_time_and_forgets_idle_addresses()
    {
        var time = new FakeTimeProvider();
        var limiter = new AddressRateLimiter(burst: 10, perSecond: 5, maxAddresses: 2, time);
        var a = IPAddress.Parse("10.0.0.1");
        for (int i = 0; i < 10; i++) Assert.True(limiter.TryTake(a, 1));
        Assert.False(limiter.TryTake(a, 1));
        time.Advance(TimeSpan.FromSeconds(1));
        for (int i = 0; i < 5; i++) Assert.True(limiter.TryTake(a, 1));
        Assert.False(limiter.TryTake(a, 1));
        Assert.False(limiter.TryTake(a, 11 - 10));

        Assert.True(limiter.TryTake(IPAddress.Parse("10.0.0.2"), 1));
        time.Advance(TimeSpan.FromSeconds(10)); // both refilled: idle, forgettable
        Assert.True(limiter.TryTake(IPAddress.Parse("10.0.0.3"), 1));
        Assert.InRange(limiter.TrackedAddresses, 1, 2);
    }

    [Fact]
    public async Task Junk_datagrams_are_dropped_without_an_answer()
    {
        await using var node = Discv5NodeTests.StartNode();
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.3"), 0));
        var junk = new byte[100];
        for (int i = 0; i < 50; i++)
        {
            Random.Shared.NextBytes(junk);
            sender.SendTo(junk, node.LocalEndPoint);
        }
        sender.SendTo(new byte[10], node.LocalEndPoint);
        sender.SendTo(new byte[2000], node.LocalEndPoint);
        await Polling.WaitUntil(() => node.Dropped(PacketDropReason.NotDiscv5) >= 50 && node.Dropped(PacketDropReason.TooShort) >= 1
            && node.Dropped(PacketDropReason.TooLarge) >= 1, "the junk is dropped", 20);
        Assert.Equal(0, sender.Available);
    }
}
