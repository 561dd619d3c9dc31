using System.Net;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using StoreSync.Libp2p.Discovery.Enr;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Libp2p.Multiformats;
using StoreSync.Testing.Libp2p;
using StoreSync.Waku.PeerExchange;
using StoreSync.Waku.Proto;
using StoreSync.Waku.RateLimiting;

namespace StoreSync.Waku.Tests.PeerExchange;

/// <summary>Peer exchange between two hosts on 127.0.0.1: records served and verified, the 60 cap, 400 and 429, junk dropped.</summary>
public sealed class PeerExchangeTests : IAsyncLifetime
{
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    readonly Libp2pHost _server = new(IdentityKey.Generate(KeyType.Secp256k1), new HostOptions { Security = new PlaintextSecurity() });
    readonly Libp2pHost _client = new(IdentityKey.Generate(KeyType.Secp256k1), new HostOptions { Security = new PlaintextSecurity() });
    readonly FixedSource _source = new([.. Enumerable.Range(0, 70).Select(i => Record((ushort)(9000 + i)))]);

    sealed class FixedSource(IReadOnlyList<EnrRecord> records) : IPeerExchangeSource
    {
        public IReadOnlyList<EnrRecord> SampleForExchange(int count) => records.Take(count).ToList();
    }

    static EnrRecord Record(ushort port) =>
        new EnrBuilder().SetIp(IPAddress.Loopback).SetTcp(port).Sign(Secp256k1Signatures.GeneratePrivateKey());

    CancellationToken Timeout => _timeout.Token;

    Multiaddr ServerAddress => _server.ListenAddresses[0];

    public async Task InitializeAsync()
    {
        await StartAsync(new PerPeerRateLimiter(0, 1));
    }

    async Task StartAsync(PerPeerRateLimiter limiter)
    {
        new PeerExchangeService(_source, limiter, NullLogger<PeerExchangeService>.Instance).Attach(_server);
        await _server.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], Timeout);
        await _client.DialAsync(ServerAddress, Timeout);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        _timeout.Dispose();
    }

    [Fact]
    public async Task A_client_gets_the_records_it_asked_for_and_they_verify()
    {
        var result = await new PeerExchangeClient(_client).RequestAsync(_server.PeerId, 5, Timeout);
        Assert.Equal(PeerExchangeProtocol.Success, result.Status);
        Assert.Equal(Enumerable.Range(9000, 5).Select(p => (ushort?)p), result.Records.Select(r => r.Tcp));
        Assert.Equal(0, result.Rejected);
    }

    [Fact]
    public async Task No_more_than_60_records_whatever_is_asked()
    {
        var raw = PeerExchangeRPC.Parser.ParseFrom(await RequestResponse.RoundTripAsync(_client, ServerAddress, PeerExchangeProtocol.ProtocolId,
            new PeerExchangeRPC { Query = new PeerExchangeQuery { NumPeers = 1000 } }, Timeout));
        Assert.Equal(PeerExchangeProtocol.MaxPeersPerResponse, raw.Response.PeerInfos.Count);
        Assert.Equal(PeerExchangeProtocol.Success, raw.Response.StatusCode);
        Assert.NotNull(raw.Query); // the empty query older nwaku nodes need
    }

    [Fact]
    public async Task An_unreadable_or_empty_query_is_answered_400()
    {
        await using (var stream = await _client.NewStreamAsync(ServerAddress, PeerExchangeProtocol.ProtocolId, Timeout))
        {
            await StoreSync.Libp2p.LengthPrefixed.WriteAsync(stream, new byte[] { 0x0A, 0x05, 0x01 }, Timeout); // field 1 cut short
            await stream.CloseWriteAsync(Timeout);
            var answer = PeerExchangeClient.Decode(await StoreSync.Libp2p.LengthPrefixed.ReadAsync(stream, 1 << 16, Timeout), 5, "server");
            Assert.Equal(PeerExchangeProtocol.BadRequest, answer.Status);
        }
        var empty = PeerExchangeRPC.Parser.ParseFrom(await RequestResponse.RoundTripAsync(_client, ServerAddress, PeerExchangeProtocol.ProtocolId,
            new PeerExchangeRPC(), Timeout));
        Assert.Equal(PeerExchangeProtocol.BadRequest, empty.Response.StatusCode);
    }

    [Fact]
    public async Task A_peer_past_its_rate_is_answered_429()
    {
        await using var limited = new Libp2pHost(IdentityKey.Generate(KeyType.Secp256k1), new HostOptions { Security = new PlaintextSecurity() });
        new PeerExchangeService(_source, new PerPeerRateLimiter(0.001, 2), NullLogger<PeerExchangeService>.Instance).Attach(limited);
        await limited.StartAsync([Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], Timeout);
        await _client.DialAsync(limited.ListenAddresses[0], Timeout);
        var client = new PeerExchangeClient(_client);
        var statuses = new List<uint>();
        for (int i = 0; i < 3; i++) statuses.Add((await client.RequestAsync(limited.PeerId, 1, Timeout)).Status);
        Assert.Equal([200u, 200u, 429u], statuses);
    }

    [Fact]
    public void Junk_and_surplus_records_are_dropped()
    {
        var good = Record(1);
        var response = new PeerExchangeRPC { Response = new PeerExchangeResponse { StatusCode = 200 } };
        response.Response.PeerInfos.Add(new PeerInfo { Enr = ByteString.CopyFrom(good.Encode()) });
        var tampered = good.ToArray();
        tampered[^1] ^= 1;
        response.Response.PeerInfos.Add(new PeerInfo { Enr = ByteString.CopyFrom(tampered) });
        response.Response.PeerInfos.Add(new PeerInfo { Enr = ByteString.CopyFromUtf8("not rlp") });
        response.Response.PeerInfos.Add(new PeerInfo { Enr = ByteString.CopyFrom(Record(2).Encode()) });
        var result = PeerExchangeClient.Decode(response.ToByteArray(), numPeers: 3, "test");
        Assert.Equal([(ushort?)1], result.Records.Select(r => r.Tcp));
        Assert.Equal(3, result.Rejected);
        Assert.Throws<InvalidDataException>(() => PeerExchangeClient.Decode(new PeerExchangeRPC().ToByteArray(), 3, "test"));
    }
}
