using Google.Protobuf;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Core.Wire;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;
using StoreSync.Reconciliation.Nwaku;
using StoreSync.Storage;
using StoreSync.Testing;
using StoreSync.Testing.Storage;
using StoreSync.Waku.Peers;
using StoreSync.Waku.Sync;

namespace StoreSync.Waku.Tests;

/// <summary>A hostile peer speaking raw frames through a real host cannot make a node store a message whose hash was not announced,
/// nor work without bound, and is disconnected and banned past the penalty threshold.</summary>
public sealed class ByzantinePeerTests : IAsyncLifetime
{
    const string Topic = "/waku/2/rs/1/0";
    static readonly long Now = Timestamp.Now();
    static readonly long Start = Now - TimeSpan.FromDays(40).Ticks * 100;
    readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    CancellationToken Timeout => _timeout.Token;
    SyncNode _node = null!;
    Libp2pHost _attacker = null!;
    List<(string Pubsub, WakuMessage Message)> _history = [];

    public async Task InitializeAsync()
    {
        _history = SyncOverLibp2pTests.Messages(new Random(1), 600, Topic, "h");
        _node = await SyncNode.StartAsync(_history);
        _attacker = await _node.StartRawPeerAsync();
    }

    public async Task DisposeAsync()
    {
        await _attacker.DisposeAsync();
        await _node.DisposeAsync();
        _timeout.Dispose();
    }

    PeerId Attacker => _attacker.PeerId;

    void AssertStoreUntouched(int extra = 0)
    {
        Assert.Equal(_history.Count + extra, _node.Store.Store.GetStatistics().Messages);
        Assert.Empty(StoreIntegrity.Check(_node.Store.Store));
    }

    /// <summary>Reads until the node ends the stream (FIN or reset); returns the frames it sent.</summary>
    async Task<int> DrainAsync(Libp2pStream stream)
    {
        int frames = 0;
        try
        {
            while (await LengthPrefixed.TryReadAsync(stream, 64 << 20, Timeout) is not null) frames++;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or InvalidDataException) { }
        return frames;
    }

    [Fact]
    public async Task Oversized_and_malformed_frames_are_penalised_until_the_peer_is_disconnected_and_banned()
    {
        var oversized = await _attacker.NewStreamAsync(_node.PeerId, NwakuReconciliation.ProtocolId, Timeout);
        var prefix = new byte[10];
        int n = Varint.Write(prefix, 1UL << 30); // announces 1 GiB, sends 3 bytes
        var announce = new byte[n + 3];
        prefix.AsSpan(0, n).CopyTo(announce);
        announce.AsSpan(n).Fill(1);
        // The node may reset the stream as soon as it reads the prefix, before our write returns.
        try { await oversized.WriteAsync(announce, Timeout); } catch (IOException) { }
        await DrainAsync(oversized);
        await Polling.WaitUntil(() => _node.Ended.Count == 1, "the node ended the first session");
        Assert.Equal(PeerPenalties.PointsFor(PenaltyReason.OversizedFrame), _node.Penalties.ScoreOf(Attacker));

        var garbage = await _attacker.NewStreamAsync(_node.PeerId, NwakuReconciliation.ProtocolId, Timeout);
        await LengthPrefixed.WriteAsync(garbage, new byte[] { 0x01, 0x05, 0xff, 0xff }, Timeout); // a topic longer than the frame
        await DrainAsync(garbage);
        await Polling.WaitUntil(() => _node.Ended.Count == 2, "the node ended the second session");
        Assert.False(_node.Penalties.IsBanned(Attacker));

        // 10 + 5 points so far; a bad protocol version costs 5 more and reaches the threshold of 20.
        for (int i = 0; i < 2 && !_node.Penalties.IsBanned(Attacker); i++)
        {
            var badVersion = await _attacker.NewStreamAsync(_node.PeerId, NativeReconciliation.ProtocolId, Timeout);
            await LengthPrefixed.WriteAsync(badVersion, new byte[] { 0x07, 0x00 }, Timeout);
            await DrainAsync(badVersion);
            await Polling.WaitUntil(() => _node.Ended.Count == 3 + i, "the node ended the session");
        }

        await Polling.WaitUntil(() => _node.Penalties.IsBanned(Attacker), "the attacker is banned");
        await Polling.WaitUntil(() => _attacker.FindConnection(_node.PeerId) is null && _node.Host.FindConnection(Attacker) is null, "the connection is closed");

        // A banned peer that dials again is dropped as soon as the handshake tells who it is.
        try
        {
            var again = await _attacker.DialAsync(_node.Address, Timeout);
            await again.Closed.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (IOException) { }
        AssertStoreUntouched();
    }

    [Fact]
    public async Task An_oversized_transfer_frame_is_refused_before_it_is_read_and_penalised()
    {
        var transfer = await _attacker.NewStreamAsync(_node.PeerId, TransferProtocol.ProtocolId, Timeout);
        var prefix = new byte[10];
        int n = Varint.Write(prefix, (ulong)TransferProtocol.MaxFrameBytes(MessageValidator.DefaultMaxMessageBytes) + 1); // one byte too many
        await transfer.WriteAsync(prefix.AsMemory(0, n), Timeout);
        // The node may reset the stream as soon as it has read the prefix, before these first body bytes arrive.
        try { await transfer.WriteAsync(new byte[] { 0x0a, 0x0e }, Timeout); }
        catch (IOException) { }
        await DrainAsync(transfer);

        await Polling.WaitUntil(() => _node.Penalties.ScoreOf(Attacker) == PeerPenalties.PointsFor(PenaltyReason.OversizedFrame), "the oversized frame is penalised");
        AssertStoreUntouched();
    }

    [Fact]
    public async Task Bogus_fingerprints_forever_are_cut_off_by_the_round_cap()
    {
        var rng = new Random(2);
        var stream = await _attacker.NewStreamAsync(_node.PeerId, NwakuReconciliation.ProtocolId, Timeout);
        MessageHash Bogus() => new((ulong)rng.NextInt64(), (ulong)rng.NextInt64(), (ulong)rng.NextInt64(), (ulong)rng.NextInt64());
        var first = new RangesData { PubsubTopics = [Topic], Ranges = [new SyncRange(SyncItem.At(Start), SyncItem.At(Now + 1), RangeType.Fingerprint, Bogus())] };
        await LengthPrefixed.WriteAsync(stream, first.Encode(), Timeout);
        int rounds = 0;
        try
        {
            // Answer every range of every reply with a fresh random fingerprint: the node never sees agreement.
            while (rounds < 1_000 && await LengthPrefixed.TryReadAsync(stream, 64 << 20, Timeout) is { } reply)
            {
                rounds++;
                var decoded = RangesData.Decode(reply);
                if (decoded.IsDone) break;
                var next = new RangesData { PubsubTopics = [Topic], Ranges = [.. decoded.Ranges.Select(r => new SyncRange(r.Lower, r.Upper, RangeType.Fingerprint, Bogus()))] };
                await LengthPrefixed.WriteAsync(stream, next.Encode(), Timeout);
            }
        }
        catch (Exception e) when (e is IOException or EndOfStreamException) { }

        Assert.InRange(rounds, 1, SyncLimits.Default.MaxRounds);
        await Polling.WaitUntil(() => _node.Ended.Count == 1, "the node ended the session");
        Assert.False(_node.Ended[0].Completed);
        Assert.Contains("more than", _node.Ended[0].Error);
        Assert.Equal(PeerPenalties.PointsFor(PenaltyReason.ProtocolViolation), _node.Penalties.ScoreOf(Attacker));
        Assert.Equal(0, _node.Ended[0].Pushed); // a violator gets nothing pushed
        AssertStoreUntouched();
    }

    /// <summary>An item source that lies: every range holds a million items with a random fingerprint.</summary>
    sealed class LyingSource(Random rng) : ISyncItemSource
    {
        public long Count => 1_000_000;
        public Fingerprint GetFingerprint(in SyncItem from, in SyncItem to) =>
            new(new MessageHash((ulong)rng.NextInt64(), (ulong)rng.NextInt64(), 1, 2), 1_000_000);
        public long Rank(in SyncItem item) => 0;
        public int Read(in SyncItem from, in SyncItem to, Span<SyncItem> destination) => 0;
    }

    [Fact]
    public async Task Endless_splits_in_native_mode_end_in_bounded_work()
    {
        var stream = await _attacker.NewStreamAsync(_node.PeerId, NativeReconciliation.ProtocolId, Timeout);
        var liar = new NativeReconciliation(new SyncScope([Topic], []), _ => new LyingSource(new Random(3)), Start, Now + 1,
            limits: SyncLimits.Default with { MaxRounds = 10_000 });
        int frames = await DriveAsync(stream, liar, initiator: true);

        // Every split narrows the nodes and the node settles small ones by listing its items, so the liar cannot keep it going:
        // the session ends within the round cap, the liar is told nothing it could push, and nothing is stored.
        Assert.InRange(frames, 1, SyncLimits.Default.MaxRounds + 1);
        await Polling.WaitUntil(() => _node.Ended.Count == 1, "the node ended the session");
        Assert.Equal(0, _node.Ended[0].ToReceive);
        Assert.InRange(_node.Ended[0].FramesReceived, 1, SyncLimits.Default.MaxRounds);
        AssertStoreUntouched();
    }

    /// <summary>Runs an engine over a raw stream until either side stops; returns the frames received.</summary>
    async Task<int> DriveAsync(Libp2pStream stream, ReconciliationSession session, bool initiator)
    {
        int frames = 0;
        try
        {
            if (initiator) await LengthPrefixed.WriteAsync(stream, session.Initiate(), Timeout);
            while (!session.IsFinished && await LengthPrefixed.TryReadAsync(stream, 64 << 20, Timeout) is { } frame)
            {
                frames++;
                if (session.Receive(frame) is { } reply) await LengthPrefixed.WriteAsync(stream, reply, Timeout);
            }
            await stream.CloseWriteAsync(Timeout);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or SyncProtocolException) { }
        return frames;
    }

    [Fact]
    public async Task Forged_altered_and_invalid_transfers_are_refused_and_penalised()
    {
        var rng = new Random(5);
        var genuine = TempStore.Message("/app/1/x/proto", Now - 1_000_000_000, "genuine");
        var honest = TempStore.Message("/app/1/x/proto", Now - 2_000_000_000, "honest");
        var invalid = TempStore.Message("", Now - 3_000_000_000, "no content topic"); // announced, but fails validation
        var announced = new[] { genuine, honest, invalid }.Select(m => new SyncItem(m.Timestamp, MessageHash.Compute(Topic, m)));
        var attackerItems = new MemorySyncItemSource(_history.Select(m => new SyncItem(m.Message.Timestamp, MessageHash.Compute(Topic, m.Message))).Concat(announced));

        // A real native session: the node learns that it lacks exactly these three and expects them by transfer (listed: this
        // peer never answers Missing, so nothing is accepted by range; that case is the next test).
        var stream = await _attacker.NewStreamAsync(_node.PeerId, NativeReconciliation.ProtocolId, Timeout);
        var session = new NativeReconciliation(new SyncScope([Topic], []), _ => attackerItems, Start, Now + 1, long.MinValue, null,
            NativeTuning.Unplanned with { MissingEntries = false });
        await DriveAsync(stream, session, initiator: true);
        await Polling.WaitUntil(() => _node.Ended.Count == 1, "the node ended the session");
        Assert.Equal(3, _node.Ended[0].ToReceive);

        var transfer = await _attacker.NewStreamAsync(_node.PeerId, TransferProtocol.ProtocolId, Timeout);
        var altered = genuine.Clone();
        altered.Payload = ByteString.CopyFromUtf8("genuine, but altered"); // same timestamp, other hash
        var unsolicited = TempStore.Message("/app/1/x/proto", Now - 4_000_000_000, "never announced");
        foreach (var m in new[] { altered, unsolicited, invalid, honest })
            await LengthPrefixed.WriteAsync(transfer, TransferProtocol.Encode(Topic, m), Timeout);
        await LengthPrefixed.WriteAsync(transfer, new byte[] { 0x0a, 0xff }, Timeout); // not protobuf
        await transfer.CloseWriteAsync(Timeout);

        int expected = 2 * PeerPenalties.PointsFor(PenaltyReason.UnannouncedMessage) + PeerPenalties.PointsFor(PenaltyReason.InvalidMessage)
            + PeerPenalties.PointsFor(PenaltyReason.MalformedFrame);
        await Polling.WaitUntil(() => _node.Penalties.ScoreOf(Attacker) >= expected, "every bad push is penalised");
        Assert.False(_node.Penalties.IsBanned(Attacker));
        Assert.True(_node.Store.Store.Contains(MessageHash.Compute(Topic, honest)));
        Assert.False(_node.Store.Store.Contains(MessageHash.Compute(Topic, altered)));
        Assert.False(_node.Store.Store.Contains(MessageHash.Compute(Topic, unsolicited)));
        Assert.False(_node.Store.Store.Contains(MessageHash.Compute(Topic, invalid)));
        AssertStoreUntouched(extra: 1);

        // Keep forging: past the threshold the node bans the peer and closes the connection.
        var more = await _attacker.NewStreamAsync(_node.PeerId, TransferProtocol.ProtocolId, Timeout);
        try
        {
            for (int i = 0; i < 10; i++)
                await LengthPrefixed.WriteAsync(more, TransferProtocol.Encode(Topic, TempStore.Message("/app/1/x/proto", Now - rng.Next(1, 1000) * 1_000_000L, $"forged {i}")), Timeout);
        }
        catch (IOException) { }
        await Polling.WaitUntil(() => _node.Penalties.IsBanned(Attacker), "the forger is banned");
        await Polling.WaitUntil(() => _node.Host.FindConnection(Attacker) is null, "the forger is disconnected");
        AssertStoreUntouched(extra: 1);
    }

    [Fact]
    public async Task Pushes_after_a_session_that_broke_the_protocol_are_dropped_with_one_penalty_for_the_one_fault()
    {
        // The peer opens a real session, pushes three messages it never announced while the node's side still reconciles (so
        // they wait for it), then breaks the protocol. The node penalises the violation once; the waiting pushes belong to that
        // session and are dropped with their stream reset, and a new transfer stream is refused unread, until a session begins.
        var half = new MemorySyncItemSource(_history.Take(300).Select(m => new SyncItem(m.Message.Timestamp, MessageHash.Compute(Topic, m.Message))));
        var session = new NativeReconciliation(new SyncScope([Topic], []), _ => half, Start, Now + 1);
        var stream = await _attacker.NewStreamAsync(_node.PeerId, NativeReconciliation.ProtocolId, Timeout);
        await LengthPrefixed.WriteAsync(stream, session.Initiate(), Timeout);
        Assert.NotNull(await LengthPrefixed.TryReadAsync(stream, 64 << 20, Timeout));

        var transfer = await _attacker.NewStreamAsync(_node.PeerId, TransferProtocol.ProtocolId, Timeout);
        var pushed = Enumerable.Range(1, 3).Select(i => TempStore.Message("/app/1/x/proto", Now - i * 1_000_000_000L, $"after {i}")).ToList();
        foreach (var m in pushed) await LengthPrefixed.WriteAsync(transfer, TransferProtocol.Encode(Topic, m), Timeout);
        await LengthPrefixed.WriteAsync(stream, new byte[] { NativeReconciliation.Version, 2, 9 }, Timeout); // entry type 9
        await Polling.WaitUntil(() => _node.Ended.Count == 1, "the node ended the session");
        Assert.Equal(SyncSessionOutcome.Violation, _node.Ended[0].Outcome);
        Assert.Equal(0, await DrainAsync(transfer)); // reset by the node

        // A new transfer stream is reset unread (the reset may come while the protocol is still being agreed on).
        try
        {
            var late = await _attacker.NewStreamAsync(_node.PeerId, TransferProtocol.ProtocolId, Timeout);
            await LengthPrefixed.WriteAsync(late, TransferProtocol.Encode(Topic, pushed[0]), Timeout);
            Assert.Equal(0, await DrainAsync(late));
        }
        catch (IOException) { }
        Assert.Equal(PeerPenalties.PointsFor(PenaltyReason.ProtocolViolation), _node.Penalties.ScoreOf(Attacker));
        Assert.All(pushed, m => Assert.False(_node.Store.Store.Contains(MessageHash.Compute(Topic, m))));

        // A session that begins lifts the mark: an unsolicited push is charged again.
        var honest = await _attacker.NewStreamAsync(_node.PeerId, NativeReconciliation.ProtocolId, Timeout);
        await DriveAsync(honest, new NativeReconciliation(new SyncScope([Topic], []), _ => half, Start, Now + 1), initiator: true);
        await Polling.WaitUntil(() => _node.Ended.Count == 2, "the node ended the second session");
        var again = await _attacker.NewStreamAsync(_node.PeerId, TransferProtocol.ProtocolId, Timeout);
        await LengthPrefixed.WriteAsync(again, TransferProtocol.Encode(Topic, pushed[0]), Timeout);
        await again.CloseWriteAsync(Timeout);
        int expected = PeerPenalties.PointsFor(PenaltyReason.ProtocolViolation) + PeerPenalties.PointsFor(PenaltyReason.UnannouncedMessage);
        await Polling.WaitUntil(() => _node.Penalties.ScoreOf(Attacker) >= expected, "the unsolicited push is penalised");
        AssertStoreUntouched();
    }

    [Fact]
    public async Task Items_a_closing_entry_offered_whole_are_stored_when_lacking_and_their_copies_cost_no_penalty()
    {
        // The peer holds the node's history plus two new messages and answers the closing frame with Closing entries (version 3,
        // spec/sync.md §3.2 rule 7: its whole list of a node, no answer needed). The node announces the two it lacks; the peer
        // pushes every item it offered, copies of the node's own messages included, which the node drops unpenalised (§5.3).
        var fresh = Enumerable.Range(1, 2).Select(i => TempStore.Message("/app/1/x/proto", Now - i * 7_000_000_000L, $"fresh {i}")).ToList();
        var all = _history.Select(m => m.Message).Concat(fresh).ToDictionary(m => new SyncItem(m.Timestamp, MessageHash.Compute(Topic, m)));
        var stream = await _attacker.NewStreamAsync(_node.PeerId, NativeReconciliation.ProtocolId, Timeout);
        // A one-round-trip plan without the single-difference search: every small node it answers is offered whole.
        var session = new NativeReconciliation(new SyncScope([Topic], []), _ => new MemorySyncItemSource(all.Keys), Start, Now + 1, long.MinValue, null,
            NativeTuning.Unplanned with { TargetRoundTrips = 1, SingleDifferenceSearch = false, LargeNode = 16, ClosingListLimit = 64, ClosingOfferLimit = 64 });
        await DriveAsync(stream, session, initiator: true);
        await Polling.WaitUntil(() => _node.Ended.Count == 1, "the node ended the session");
        Assert.True(_node.Ended[0].Completed, _node.Ended[0].Error);
        Assert.True(session.EntriesSent(EntryType.Closing) > 0, "the peer sent no Closing entry");
        Assert.Equal(2, _node.Ended[0].ToReceive);
        Assert.True(session.Offered.Count > 2, "only the lacking items were offered");

        var transfer = await _attacker.NewStreamAsync(_node.PeerId, TransferProtocol.ProtocolId, Timeout);
        foreach (var item in session.ToSend.Concat(session.Offered))
            await LengthPrefixed.WriteAsync(transfer, TransferProtocol.Encode(Topic, all[item]), Timeout);
        await transfer.CloseWriteAsync(Timeout);
        await Polling.WaitUntil(() => fresh.All(m => _node.Store.Store.Contains(MessageHash.Compute(Topic, m))), "the lacking offered items are stored");
        Assert.Equal(0, _node.Penalties.ScoreOf(Attacker));
        AssertStoreUntouched(extra: 2);
    }

    [Fact]
    public async Task Pushes_into_a_range_announced_as_missing_are_accepted_only_up_to_its_count_and_only_inside_it()
    {
        // The peer holds the node's history plus the three newest messages, where the node holds nothing: it answers Missing
        // (count 3) instead of listing them, so the node accepts pushes there by range, at most three (spec/sync.md §5.3).
        var newest = Enumerable.Range(1, 3).Select(i => TempStore.Message("/app/1/x/proto", Now - i * 1_000_000_000L, $"newest {i}")).ToList();
        var attackerItems = new MemorySyncItemSource(_history.Select(m => m.Message).Concat(newest).Select(m => new SyncItem(m.Timestamp, MessageHash.Compute(Topic, m))));
        var stream = await _attacker.NewStreamAsync(_node.PeerId, NativeReconciliation.ProtocolId, Timeout);
        var session = new NativeReconciliation(new SyncScope([Topic], []), _ => attackerItems, Start, Now + 1);
        await DriveAsync(stream, session, initiator: true);
        await Polling.WaitUntil(() => _node.Ended.Count == 1, "the node ended the session");
        Assert.Equal(3, _node.Ended[0].ToReceive);
        Assert.True(_node.Ended[0].BytesReceived + _node.Ended[0].BytesSent < 1024, "counted, not listed");

        var transfer = await _attacker.NewStreamAsync(_node.PeerId, TransferProtocol.ProtocolId, Timeout);
        var oneTooMany = TempStore.Message("/app/1/x/proto", Now - 1_500_000_000, "a fourth one in the range");
        var outside = TempStore.Message("/app/1/x/proto", Start + 1, "outside every announced range");
        foreach (var m in newest.Append(oneTooMany).Append(outside))
            await LengthPrefixed.WriteAsync(transfer, TransferProtocol.Encode(Topic, m), Timeout);
        await transfer.CloseWriteAsync(Timeout);

        int expected = 2 * PeerPenalties.PointsFor(PenaltyReason.UnannouncedMessage);
        await Polling.WaitUntil(() => _node.Penalties.ScoreOf(Attacker) >= expected, "the two pushes beyond the announcement are penalised");
        Assert.All(newest, m => Assert.True(_node.Store.Store.Contains(MessageHash.Compute(Topic, m))));
        Assert.False(_node.Store.Store.Contains(MessageHash.Compute(Topic, oneTooMany)));
        Assert.False(_node.Store.Store.Contains(MessageHash.Compute(Topic, outside)));
        AssertStoreUntouched(extra: 3);
        Assert.Equal(expected, _node.Penalties.ScoreOf(Attacker));
    }
}
