using StoreSync.Core;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Bandwidth;
using StoreSync.Libp2p.Host;
using StoreSync.Reconciliation;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Governor;
using StoreSync.Waku.Sync;

namespace StoreSync.Waku.Tests.Sync;

/// <summary><see cref="TransferService.FenceAsync"/>: once a peer's transfer streams are reset, nothing more of them is read,
/// what was read is written, and a later session fetches the rest, each message received once (spec/sync.md §5.7).</summary>
public sealed class TransferFenceTests : IDisposable
{
    const string Pubsub = "/waku/2/rs/1/0";
    static readonly long Now = Timestamp.Now();
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(120));

    public void Dispose() => _timeout.Dispose();

    /// <summary>Paces every history download at one rate, so a transfer lasts long enough to be fenced mid-way.</summary>
    sealed class PacedDownload(long bytesPerSecond) : IResourceGovernor
    {
        readonly BandwidthChain _download = new([new TokenBucket(bytesPerSecond, 16 << 10)]);
        public BandwidthChain HistoryUpload(TrafficScope scope) => BandwidthChain.Unlimited;
        public BandwidthChain HistoryDownload(TrafficScope scope) => _download;
        public void RealtimeIn(int bytes) { }
        public void RealtimeOut(int bytes) { }
        public void RecordCpu(string protocol, TrafficScope scope, long nanoseconds) { }
    }

    async Task UntilAsync(Func<bool> done, string what)
    {
        for (int i = 0; i < 600 && !done(); i++) await Task.Delay(50, _timeout.Token);
        Assert.True(done(), what);
    }

    [Fact]
    public async Task A_fenced_peer_s_pushes_stop_arriving_and_a_later_session_fetches_the_rest_each_message_once()
    {
        var all = Enumerable.Range(0, 1000)
            .Select(i => (Pubsub, TempStore.Message("/app/1/chat/proto", Now - (1000 - i) * 1_000_000_000L, $"m{i}-" + new string('x', 1024)))).ToList();
        await using var full = await SyncNode.StartAsync(all);
        await using var empty = await SyncNode.StartAsync(governor: new PacedDownload(256 << 10));
        empty.Host.AddAddress(full.PeerId, full.Address);
        var scope = new SyncScope([Pubsub], []);

        var first = await empty.Client.SyncAsync(full.PeerId, scope, long.MinValue + 1, Now + 1, SyncModes.Native, _timeout.Token);
        Assert.NotNull(first);
        Assert.Equal(all.Count, first.ToReceive);
        await UntilAsync(() => empty.Transfer.TotalsOf(full.PeerId).Received >= 100, "the paced transfer started");

        Assert.Equal((1, true), await empty.Transfer.FenceAsync(full.PeerId, TimeSpan.FromSeconds(30), _timeout.Token));
        var fenced = empty.Transfer.TotalsOf(full.PeerId);
        await Task.Delay(TimeSpan.FromSeconds(1), _timeout.Token);
        Assert.Equal(fenced, empty.Transfer.TotalsOf(full.PeerId));   // nothing more was read
        Assert.InRange(fenced.Received, 100, all.Count - 1);
        Assert.Equal(fenced.Stored, empty.Hashes(Pubsub).Count);
        Assert.False(full.Penalties.IsBanned(empty.PeerId));
        Assert.False(empty.Penalties.IsBanned(full.PeerId));

        var second = await empty.Client.SyncAsync(full.PeerId, scope, long.MinValue + 1, Now + 1, SyncModes.Native, awaitTransfer: true, _timeout.Token);
        Assert.NotNull(second);
        Assert.Equal(all.Count - fenced.Stored, second.ToReceive);
        Assert.True(second.TransferArrived, "the later session's deliveries are its own, not the fenced session's");
        await UntilAsync(() => empty.Hashes(Pubsub).Count == all.Count, "the later session fetched the rest");
        Assert.True(await empty.Transfer.WhenStoredAsync(full.PeerId, TimeSpan.FromSeconds(30), _timeout.Token));
        Assert.Equal(all.Count, empty.Transfer.TotalsOf(full.PeerId).Received);
        Assert.Equal(all.Count, empty.Transfer.TotalsOf(full.PeerId).Stored);
    }

    [Fact]
    public async Task A_stream_opened_after_the_fence_is_refused_unread_until_a_session_with_the_peer_begins()
    {
        // A peer whose session ended before the fence opens its transfer stream late: its slice may be another peer's by now.
        var known = TempStore.Message("/app/1/chat/proto", Now - 1_000_000_000L, "known");
        await using var node = await SyncNode.StartAsync([(Pubsub, known)]);
        await using var peer = await node.StartRawPeerAsync();
        async Task<Libp2pStream> PushKnownAsync()
        {
            var stream = await peer.NewStreamAsync(node.PeerId, TransferProtocol.ProtocolId, _timeout.Token);
            try
            {
                await LengthPrefixed.WriteAsync(stream, TransferProtocol.Encode(Pubsub, known), _timeout.Token);
                await stream.CloseWriteAsync(_timeout.Token);
            }
            catch (IOException) { }   // the reset may already be here
            return stream;
        }

        Assert.Equal((0, true), await node.Transfer.FenceAsync(peer.PeerId, TimeSpan.FromSeconds(1), _timeout.Token));
        Assert.True(node.Sessions.IsFenced(peer.PeerId));
        // Reset at once: the peer's opening fails (or, if the reset comes later, its first read).
        await Assert.ThrowsAsync<IOException>(async () => await LengthPrefixed.TryReadAsync(await PushKnownAsync(), 1 << 20, _timeout.Token));
        Assert.Equal(0, node.Transfer.TotalsOf(peer.PeerId).Received);
        Assert.Equal(0, node.Penalties.ScoreOf(peer.PeerId));

        node.Sessions.TryBegin(peer.PeerId, inbound: true)!.Dispose();
        Assert.False(node.Sessions.IsFenced(peer.PeerId));
        await PushKnownAsync();
        await UntilAsync(() => node.Transfer.TotalsOf(peer.PeerId).Received == 1, "a stream after a new session is read");
        Assert.Equal(0, node.Penalties.ScoreOf(peer.PeerId));
    }

    [Fact]
    public async Task Fencing_a_peer_with_no_transfer_stream_resets_nothing()
    {
        await using var a = await SyncNode.StartAsync();
        await using var b = await SyncNode.StartAsync();
        Assert.Equal((0, true), await a.Transfer.FenceAsync(b.PeerId, TimeSpan.FromSeconds(1), _timeout.Token));
    }
}
