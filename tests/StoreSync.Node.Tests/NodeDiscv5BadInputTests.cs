using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using StoreSync.Libp2p.Discovery.Discv5;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Identity;
using StoreSync.Testing.Node;
using Xunit.Abstractions;

namespace StoreSync.Node.Tests;

/// <summary>Issue 16 proof 5 against a running node process over UDP loopback: junk, truncated, oversized datagrams,
/// handshakes carrying malformed records and a FINDNODE flood from one address are dropped and counted
/// (<c>storesync_discv5_dropped_packets_total</c>); the process stays up, its memory bounded, and it still answers an
/// honest peer afterwards.</summary>
public sealed class NodeDiscv5BadInputTests(ITestOutputHelper output)
{
    static long RssBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    static async Task<double> DroppedAsync(HttpClient http, StoreNodeProcess node, string reason, CancellationToken ct) =>
        NodeReadings.Sample(await http.GetStringAsync(node.Metrics, ct), "storesync_discv5_dropped_packets_total", ("reason", reason)) ?? 0;

    /// <summary>An ordinary message packet (flag 0) to <paramref name="to"/> from a made-up source id: a valid header the
    /// node can unmask, and 20 random "message" bytes it cannot decrypt (a discv5 random packet).</summary>
    static byte[] RandomPacket(NodeId to, byte[] sourceId)
    {
        var packet = new byte[Discv5Limits.MaxPacketSize];
        int end = PacketCodec.WriteHeader(packet, RandomNumberGenerator.GetBytes(16), PacketFlag.Message, RandomNumberGenerator.GetBytes(Discv5Limits.NonceLength), sourceId);
        RandomNumberGenerator.Fill(packet.AsSpan(end, 20));
        using var masking = MaskingOf(to);
        PacketCodec.Seal(packet, end, default, null, masking);
        return packet[..(end + 20)];
    }

    /// <summary>The header-masking cipher of packets to <paramref name="to"/>: AES-128 keyed with its id's first 16 bytes.</summary>
    static Aes MaskingOf(NodeId to)
    {
        var aes = Aes.Create();
        aes.SetKey(to.ToArray().AsSpan(0, 16));
        return aes;
    }

    /// <summary>A handshake packet (flag 2) whose authdata's sizes are right but whose record is not a record.</summary>
    static byte[] HandshakeWithJunkRecord(NodeId to, byte[] sourceId)
    {
        var authData = new byte[32 + 2 + 64 + 33 + 60];
        sourceId.CopyTo(authData, 0);
        authData[32] = 64;
        authData[33] = 33;
        RandomNumberGenerator.Fill(authData.AsSpan(34));
        authData[34 + 64] = 0x02;
        authData[34 + 64 + 33] = 0xf8; // an RLP list head whose length runs past the end
        var packet = new byte[Discv5Limits.MaxPacketSize];
        int end = PacketCodec.WriteHeader(packet, RandomNumberGenerator.GetBytes(16), PacketFlag.Handshake, RandomNumberGenerator.GetBytes(Discv5Limits.NonceLength), authData);
        RandomNumberGenerator.Fill(packet.AsSpan(end, 40));
        using var masking = MaskingOf(to);
        PacketCodec.Seal(packet, end, default, null, masking);
        return packet[..(end + 40)];
    }

    [Fact]
    public async Task Junk_truncated_oversized_packets_bad_records_and_a_findnode_flood_leave_the_node_up_and_answering()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(240));
        var ct = cts.Token;
        await using var node = await StoreNodeProcess.StartAsync(new StoreNodeSettings { Metrics = true, Args = ["--discv5-discovery", "true", "--discv5-udp-port", "0"] });
        var record = await node.RecordAsync(ct);
        var target = record.UdpEndPoint!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        long rssBefore = RssBytes(node.ProcessId);

        // 1. One address (127.0.0.3), within its burst of 200 tokens: each kind of bad datagram once or a few times.
        using (var junk = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            junk.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.3"), 0));
            var sourceId = RandomNumberGenerator.GetBytes(32);
            for (int i = 0; i < 20; i++) junk.SendTo(RandomNumberGenerator.GetBytes(Random.Shared.Next(63, 1281)), target); // NotDiscv5
            for (int i = 0; i < 10; i++) junk.SendTo(RandomNumberGenerator.GetBytes(Random.Shared.Next(1, 63)), target); // TooShort
            for (int i = 0; i < 10; i++) junk.SendTo(new byte[Random.Shared.Next(1281, 9000)], target); // TooLarge
            var good = RandomPacket(record.NodeId, sourceId);
            for (int cut = 63; cut < 16 + 23 + 32; cut += 2) junk.SendTo(good[..cut], target); // cut inside the authdata: BadAuthData
            for (int i = 0; i < 10; i++) junk.SendTo(HandshakeWithJunkRecord(record.NodeId, sourceId), target); // no challenge, junk record: BadHandshake
        }
        await WaitAsync(async () =>
            await DroppedAsync(http, node, nameof(PacketDropReason.NotDiscv5), ct) >= 20
            && await DroppedAsync(http, node, nameof(PacketDropReason.TooShort), ct) >= 10
            && await DroppedAsync(http, node, nameof(PacketDropReason.TooLarge), ct) >= 10
            && await DroppedAsync(http, node, nameof(PacketDropReason.BadAuthData), ct) >= 1
            && await DroppedAsync(http, node, nameof(PacketDropReason.BadHandshake), ct) >= 10, "each kind of junk dropped and counted", ct);

        // 2. A handshake answering a real challenge but carrying a malformed record (127.0.0.4): refused, no session.
        using (var liar = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            liar.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.4"), 0));
            var sourceId = RandomNumberGenerator.GetBytes(32);
            double badBefore = await DroppedAsync(http, node, nameof(PacketDropReason.BadHandshake), ct);
            liar.SendTo(RandomPacket(record.NodeId, sourceId), target);
            var challenge = new byte[Discv5Limits.MaxPacketSize];
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                wait.CancelAfter(TimeSpan.FromSeconds(20));
                await liar.ReceiveAsync(challenge, SocketFlags.None, wait.Token); // the WHOAREYOU
            }
            liar.SendTo(HandshakeWithJunkRecord(record.NodeId, sourceId), target);
            await WaitAsync(async () => await DroppedAsync(http, node, nameof(PacketDropReason.BadHandshake), ct) >= badBefore + 1, "the handshake with a junk record refused", ct);
        }

        // 3. A FINDNODE flood from one handshaken peer (127.0.0.2): 1,500 requests, 200 in flight; the node answers what
        // that address's token budget allows and drops the rest unread.
        long answered = 0, unanswered = 0;
        await using (var flooder = Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1), new Discv5Options { ListenAddress = IPAddress.Parse("127.0.0.2") }))
        {
            await flooder.PingAsync(record, ct);
            using var inFlight = new SemaphoreSlim(200);
            var requests = Enumerable.Range(0, 1500).Select(async i =>
            {
                await inFlight.WaitAsync(ct);
                try
                {
                    await flooder.FindNodeAsync(record, [0, 255, 256], ct);
                    Interlocked.Increment(ref answered);
                }
                catch (Discv5Exception) { Interlocked.Increment(ref unanswered); }
                finally { inFlight.Release(); }
            }).ToList();
            await Task.WhenAll(requests);
        }
        double rateLimited = await DroppedAsync(http, node, nameof(PacketDropReason.RateLimited), ct);
        output.WriteLine($"flood: {answered} answered, {unanswered} unanswered, {rateLimited} datagrams rate-limited");
        Assert.True(rateLimited > 0, "the flood was not cut");
        Assert.True(unanswered > 0);

        // 4. Still up, memory bounded, and an honest peer on another address gets PONG and the node's own record.
        Assert.False(node.HasExited);
        long rssAfter = RssBytes(node.ProcessId);
        output.WriteLine($"RSS {rssBefore / 1048576} MiB before, {rssAfter / 1048576} MiB after");
        Assert.True(rssAfter < rssBefore + 256L * 1024 * 1024, $"RSS grew from {rssBefore} to {rssAfter} bytes");
        await using var honest = Discv5Node.Start(IdentityKey.Generate(KeyType.Secp256k1), new Discv5Options { ListenAddress = IPAddress.Loopback });
        var pong = await honest.PingAsync(record, ct);
        Assert.Equal(record.Seq, pong.EnrSeq);
        var self = await honest.FindNodeAsync(record, [0], ct);
        Assert.Equal(record.NodeId, Assert.Single(self).NodeId);
        using var health = new HttpClient { BaseAddress = node.Rest, Timeout = TimeSpan.FromSeconds(30) };
        Assert.True((await health.GetAsync("/health", ct)).IsSuccessStatusCode);
    }

    /// <summary>Polls every 250 ms until <paramref name="condition"/> holds, bounded by the token.</summary>
    static async Task WaitAsync(Func<Task<bool>> condition, string what, CancellationToken ct)
    {
        for (int i = 0; i < 240; i++)
        {
            if (await condition()) return;
            await Task.Delay(250, ct);
        }
        Assert.Fail($"not reached within 60 s: {what}");
    }
}
