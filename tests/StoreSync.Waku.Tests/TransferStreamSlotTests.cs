using StoreSync.Core.Proto;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;
using StoreSync.Testing;
using StoreSync.Waku.Sync;

namespace StoreSync.Waku.Tests;

/// <summary>A transfer stream beyond the peer's two open ones waits, unread, for a slot instead of being refused at once
/// (spec/sync.md §5.3): a peer running sessions back to back opens its next stream before we have read its last.</summary>
public sealed class TransferStreamSlotTests : IAsyncLifetime
{
    const string Topic = "/waku/2/rs/1/0";
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    List<(string Pubsub, WakuMessage Message)> _history = [];
    SyncNode _node = null!;
    Libp2pHost _peer = null!;

    CancellationToken Timeout => _timeout.Token;

    public async Task InitializeAsync()
    {
        _history = SyncOverLibp2pTests.Messages(new Random(3), 4, Topic, "slot");
        _node = await SyncNode.StartAsync(_history, limits: new SyncNetworkLimits { TransferSlotWait = TimeSpan.FromSeconds(20) });
        _peer = await _node.StartRawPeerAsync();
    }

    public async Task DisposeAsync()
    {
        await _peer.DisposeAsync();
        await _node.DisposeAsync();
        _timeout.Dispose();
    }

    async Task<Libp2pStream> OpenAsync() => await _peer.NewStreamAsync(_node.PeerId, TransferProtocol.ProtocolId, Timeout);

    // A copy of a message the node holds: judged and dropped as known, not penalised; it shows that the stream was read.
    async Task PushKnownAsync(Libp2pStream stream)
    {
        await LengthPrefixed.WriteAsync(stream, TransferProtocol.Encode(Topic, _history[0].Message), Timeout);
        await stream.CloseWriteAsync(Timeout);
    }

    [Fact]
    public async Task A_third_stream_waits_for_a_slot_and_is_read_when_one_of_the_first_two_ends()
    {
        var first = await OpenAsync();
        var second = await OpenAsync();
        await Polling.WaitUntil(() => _node.Sessions.OpenTransfers(_peer.PeerId) == 2, "two transfer streams open");
        var third = await OpenAsync();
        await PushKnownAsync(third);
        await Task.Delay(300);
        Assert.Equal(0, _node.Transfer.TotalsOf(_peer.PeerId).Received);   // no slot: not read yet, and not reset

        await first.CloseWriteAsync(Timeout);
        await Polling.WaitUntil(() => _node.Transfer.TotalsOf(_peer.PeerId).Received == 1, "the third stream is read once the first ends");
        Assert.Equal(0, _node.Penalties.ScoreOf(_peer.PeerId));
        await second.CloseWriteAsync(Timeout);
        await Polling.WaitUntil(() => _node.Sessions.OpenTransfers(_peer.PeerId) == 0, "every transfer stream closed");
        Assert.Equal(_history.Count, _node.Store.Store.GetStatistics().Messages);
    }

    [Fact]
    public async Task A_stream_that_finds_no_slot_within_the_wait_is_reset_and_nothing_of_it_is_read()
    {
        await using var node = await SyncNode.StartAsync(_history, limits: new SyncNetworkLimits { TransferSlotWait = TimeSpan.FromMilliseconds(200) });
        _peer.AddAddress(node.PeerId, node.Address);
        var held = new[] { await _peer.NewStreamAsync(node.PeerId, TransferProtocol.ProtocolId, Timeout), await _peer.NewStreamAsync(node.PeerId, TransferProtocol.ProtocolId, Timeout) };
        await Polling.WaitUntil(() => node.Sessions.OpenTransfers(_peer.PeerId) == 2, "two transfer streams open");
        var refused = await _peer.NewStreamAsync(node.PeerId, TransferProtocol.ProtocolId, Timeout);
        await Assert.ThrowsAsync<IOException>(async () => await LengthPrefixed.TryReadAsync(refused, 1 << 20, Timeout));
        Assert.Equal(0, node.Transfer.TotalsOf(_peer.PeerId).Received);
        Assert.Equal(2, node.Sessions.OpenTransfers(_peer.PeerId));
        foreach (var s in held) await s.CloseWriteAsync(Timeout);
    }
}
