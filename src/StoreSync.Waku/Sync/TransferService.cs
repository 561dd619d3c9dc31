using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Core.Proto;
using StoreSync.Core.Wire;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Storage;
using StoreSync.Storage.Retention;
using StoreSync.Waku.Governor;
using StoreSync.Waku.Ingress;
using StoreSync.Waku.Peers;

namespace StoreSync.Waku.Sync;

/// <summary>What transfer streams from one peer have brought: frames received, messages newly stored, bytes on the wire.</summary>
public readonly record struct TransferTotals(long Received, long Stored, long Bytes);

/// <summary>Receives <c>/vac/waku/transfer/1.0.0</c> pushes: each message is re-hashed, checked against what reconciliation
/// announced, and stored through <see cref="MessageIngress"/> (validation, served topic); bad data is penalised.</summary>
/// <remarks>
/// A message whose recomputed hash no session announced is refused (a forged or altered message has another hash); one that
/// arrives while a session with the sender still runs waits for it to end first, since the peer may push as soon as it
/// learns what we lack. A message at or below the retention horizon of its own (pubsub, content topic) scope is dropped unstored:
/// it was evicted on purpose.
/// </remarks>
public sealed class TransferService(MessageIngress ingress, MessageStore store, SyncSessions sessions, PeerPenalties penalties, SyncHorizon horizon,
    SyncMetrics metrics, int maxMessageBytes, ILogger<TransferService> logger, SyncNetworkLimits? limits = null, IResourceGovernor? governor = null)
{
    readonly IResourceGovernor _governor = governor ?? UnlimitedGovernor.Instance;
    readonly SyncNetworkLimits _limits = limits ?? SyncNetworkLimits.Default;

    /// <summary>Raised for every pushed message newly stored: the sender, the pubsub topic and the content topic (per-community figures).</summary>
    public event Action<PeerId, string, string>? Fetched;

    /// <summary>A long transfer (a node far behind) logs its progress every this many messages stored, and once at its end.</summary>
    public const int ProgressEvery = 10_000;

    /// <summary>Frames read ahead of the store while a batch is written (bounded: the reader waits, and the peer's yamux window closes).</summary>
    public const int MaxQueuedFrames = 1024;

    /// <summary>Most frames and bytes one store batch takes: what has arrived while the previous batch was written, up to these.</summary>
    public const int MaxBatchFrames = 512;

    /// <inheritdoc cref="MaxBatchFrames"/>
    public const int MaxBatchBytes = 8 << 20;

    readonly System.Collections.Concurrent.ConcurrentDictionary<PeerId, PeerTotals> _totals = new();

    sealed class PeerTotals
    {
        public long Received, Stored, Bytes;
        public int Pending;
        public readonly List<Libp2pStream> Open = [];   // under its own lock
    }

    /// <summary>Resets every transfer stream open from <paramref name="peer"/>: nothing it pushes on them from now on is read, and
    /// its sender's next write fails, so it stops; a stream it opens later is refused until a session with it begins
    /// (<see cref="SyncSessions.Fence"/>). Then waits until the frames already read are judged and written, and only then
    /// lets what the peer's ended sessions announced expire (<see cref="SyncSessions.ExpireEnded"/>). A swarm backfill fences a
    /// peer whose attempt failed before the slice is given to another peer or the same one again.</summary>
    /// <returns>How many streams were reset, and whether what was read got written within <paramref name="timeout"/>.</returns>
    public async Task<(int Reset, bool Stored)> FenceAsync(PeerId peer, TimeSpan timeout, CancellationToken ct)
    {
        sessions.Fence(peer);
        if (!_totals.TryGetValue(peer, out var t)) return (0, true);
        Libp2pStream[] open;
        lock (t.Open) open = [.. t.Open];
        foreach (var s in open) s.Reset();
        bool stored = await WhenStoredAsync(peer, timeout, ct).ConfigureAwait(false);
        // Frames still queued are judged against those announcements: they expire only once none is left.
        if (stored) sessions.ExpireEnded(peer);
        return (open.Length, stored);
    }

    /// <summary>What transfer streams from <paramref name="peer"/> have brought since start: frames received, messages newly
    /// stored, bytes on the wire.</summary>
    public TransferTotals TotalsOf(PeerId peer) => _totals.TryGetValue(peer, out var t)
        ? new TransferTotals(Interlocked.Read(ref t.Received), Interlocked.Read(ref t.Stored), Interlocked.Read(ref t.Bytes))
        : default;

    /// <summary>How often <see cref="WhenStoredAsync"/> looks.</summary>
    static readonly TimeSpan StoredPoll = TimeSpan.FromMilliseconds(5);

    /// <summary>Waits until every frame received from <paramref name="peer"/> so far is judged and written (a batch is written
    /// a little after its frames were announced-checked), or <paramref name="timeout"/> passed; true in the first case.</summary>
    public async Task<bool> WhenStoredAsync(PeerId peer, TimeSpan timeout, CancellationToken ct)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (_totals.TryGetValue(peer, out var t) && Volatile.Read(ref t.Pending) > 0)
        {
            if (Environment.TickCount64 > deadline) return false;
            await Task.Delay(StoredPoll, ct).ConfigureAwait(false);
        }
        return true;
    }

    public void Attach(Libp2pHost host) => host.SetStreamHandler(TransferProtocol.ProtocolId, HandleAsync);

    // Two stages: this reader takes frames off the stream (paced by the download limit, which closes the yamux window on the
    // sender) while the writer judges and stores what has arrived in batches, one store write per batch.
    internal async Task HandleAsync(Libp2pStream stream, CancellationToken ct)
    {
        var peer = stream.RemotePeer;
        if (penalties.IsBanned(peer)) { stream.Reset(); return; }
        if (sessions.IsFenced(peer))
        {
            // Late: its session ended before the fence (not the peer's fault), or it belongs to a session that broke the protocol
            // (penalised once already). No penalty; what it holds comes by a later session.
            logger.LogDebug("Refusing a transfer stream from {Peer}: fenced or after a protocol violation, and no session with it began since", peer);
            stream.Reset();
            return;
        }
        bool slot;
        try { slot = await sessions.OpenTransferAsync(peer, _limits.TransferSlotWait, ct).ConfigureAwait(false); }
        catch (OperationCanceledException) { stream.Reset(); return; }
        if (!slot)
        {
            logger.LogInformation("Refusing a transfer stream from {Peer}: {Max} already open for {Seconds} s", peer, _limits.MaxTransferStreamsPerPeer,
                _limits.TransferSlotWait.TotalSeconds);
            stream.Reset();
            return;
        }
        var totals = _totals.GetOrAdd(peer, _ => new PeerTotals());
        lock (totals.Open) totals.Open.Add(stream);
        var queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(MaxQueuedFrames) { SingleReader = true, SingleWriter = true });
        var count = new StreamCount();
        var writing = Task.Run(() => WriteAsync(stream, queue, totals, count, ct), CancellationToken.None);
        int queued = 0;
        try
        {
            while (true)
            {
                byte[]? frame;
                using (var idle = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    idle.CancelAfter(_limits.TransferIdleTimeout);
                    try
                    {
                        frame = await LengthPrefixed.TryReadAsync(stream, TransferProtocol.MaxFrameBytes(maxMessageBytes), idle.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        logger.LogDebug("Closing the transfer stream from {Peer}: idle for {Seconds} s", peer, _limits.TransferIdleTimeout.TotalSeconds);
                        break;
                    }
                    catch (ProtocolViolationException e)
                    {
                        penalties.Penalise(peer, PeerPenalties.ReasonFor(e), "transfer: " + e.Message);
                        stream.Reset();
                        break;
                    }
                    catch (IOException e)
                    {
                        // Reset by the peer, by Fence, or the connection is gone: what was read is still written.
                        logger.LogDebug("Transfer stream from {Peer} ended: {Reason}", peer, e.Message);
                        break;
                    }
                }
                if (frame is null || writing.IsCompleted) break;
                int wire = LengthPrefixed.WireSize(frame.Length);
                count.Received++;
                count.Bytes += wire;
                Interlocked.Increment(ref totals.Received);
                Interlocked.Add(ref totals.Bytes, wire);
                metrics.Bytes.Add(wire, SyncMetrics.Tag("protocol", "transfer"), SyncMetrics.Tag("direction", "in"));
                Interlocked.Increment(ref totals.Pending);
                queued++;
                try { await queue.Writer.WriteAsync(frame, ct).ConfigureAwait(false); }
                catch (ChannelClosedException) { Interlocked.Decrement(ref totals.Pending); queued--; break; }
                // History download: holding the next read until the bytes are paid for closes the yamux window on the sender.
                await _governor.HistoryDownload(ScopeOf(frame)).WaitAsync(wire, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            lock (totals.Open) totals.Open.Remove(stream);
            queue.Writer.TryComplete();
            await writing.ConfigureAwait(false);
            sessions.CloseTransfer(peer);
            if (count.Received > 0)
                logger.Log(count.Stored > 0 ? LogLevel.Information : LogLevel.Debug, "Transfer from {Peer}: {Stored} messages fetched ({Received} received, {Bytes} B)",
                    peer, count.Stored, count.Received, count.Bytes);
        }
    }

    /// <summary>One stream's figures for its log lines (the reader counts frames, the writer what it stored).</summary>
    sealed class StreamCount
    {
        public int Received, Stored;
        public long Bytes;
    }

    /// <returns>Whether the stream is to be reset: the peer was banned, or its pushes follow a session that broke the protocol.</returns>
    async Task<bool> WriteAsync(Libp2pStream stream, Channel<byte[]> channel, PeerTotals totals, StreamCount count, CancellationToken ct)
    {
        var peer = stream.RemotePeer;
        var queue = channel.Reader;
        var batch = new List<byte[]>(MaxBatchFrames);
        try
        {
            while (await queue.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                batch.Clear();
                long bytes = 0;
                while (batch.Count < MaxBatchFrames && bytes < MaxBatchBytes && queue.TryRead(out var frame))
                {
                    batch.Add(frame);
                    bytes += frame.Length;
                }
                int stored;
                bool stop;
                try { (stored, stop) = await ReceiveBatchAsync(peer, batch, ct).ConfigureAwait(false); }
                finally { Interlocked.Add(ref totals.Pending, -batch.Count); }
                Interlocked.Add(ref totals.Stored, stored);
                int before = count.Stored;
                count.Stored += stored;
                if (count.Stored / ProgressEvery > before / ProgressEvery)
                    logger.LogInformation("Transfer from {Peer}: {Stored} messages fetched so far ({Received} received, {Bytes} B)", peer, count.Stored, count.Received, count.Bytes);
                if (stop)
                {
                    // Reset here, not when the reader notices: it may wait on a peer that sends nothing more.
                    stream.Reset();
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally
        {
            // The reader must not wait on a full queue nobody reads any more; frames never judged (the stream was cancelled or
            // stopped: the peer banned, or its pushes follow a broken session) are not pending any more.
            channel.Writer.TryComplete();
            while (queue.TryRead(out _)) Interlocked.Decrement(ref totals.Pending);
        }
        return false;
    }

    static TrafficScope ScopeOf(byte[] frame) =>
        TransferProtocol.TryPeekTopics(frame, out var pubsub, out var content) ? TrafficScope.Of(pubsub, content) : TrafficScope.None;

    // Stopped: the stream is reset and the rest of it unread, as for Banned, but without a penalty.
    enum Outcome { Stored, Known, Refused, Banned, Stopped }

    // Judges each frame as before (hash recomputed, announced, horizon, ingress checks), then stores what passed in one batch.
    // CPU is booked per message, the batch's thread time shared out evenly (only when it ran on this thread without waiting).
    async Task<(int Stored, bool Stop)> ReceiveBatchAsync(PeerId peer, List<byte[]> frames, CancellationToken ct)
    {
        long cpu = ThreadCpuTime.Now();
        int thread = Environment.CurrentManagedThreadId;
        var accepted = new List<(string PubsubTopic, WakuMessage Message, MessageHash Hash)>(frames.Count);
        bool stop = false;
        foreach (var frame in frames)
        {
            var (outcome, item) = await JudgeAsync(peer, frame, ct).ConfigureAwait(false);
            if (outcome is Outcome.Banned or Outcome.Stopped) { stop = true; break; }
            if (item is { } ok) accepted.Add(ok);
        }
        int stored = 0;
        if (accepted.Count > 0)
        {
            var results = ingress.AcceptBatch(accepted, "sync transfer from " + peer);
            for (int i = 0; i < results.Length && !stop; i++)
            {
                if (Settle(peer, accepted[i].PubsubTopic, accepted[i].Message, results[i]) is var o && o == Outcome.Stored) stored++;
                else if (o == Outcome.Banned) stop = true;
            }
        }
        if (cpu != 0 && thread == Environment.CurrentManagedThreadId && accepted.Count > 0)
        {
            long share = (ThreadCpuTime.Now() - cpu) / accepted.Count;
            foreach (var (pubsub, message, _) in accepted) _governor.RecordCpu(TransferProtocol.ProtocolId, TrafficScope.Of(pubsub, message.ContentTopic), share);
        }
        return (stored, stop);
    }

    async Task<(Outcome, (string, WakuMessage, MessageHash)?)> JudgeAsync(PeerId peer, byte[] frame, CancellationToken ct)
    {
        string pubsub;
        WakuMessage message;
        try { (pubsub, message) = TransferProtocol.Decode(frame); }
        catch (InvalidDataException e) { return (Refuse(peer, "malformed", PenaltyReason.MalformedFrame, e.Message), null); }

        var hash = MessageHash.Compute(pubsub, message);
        var verdict = await sessions.CheckAsync(peer, pubsub, hash, message.Timestamp, _limits.UnannouncedWait, ct).ConfigureAwait(false);
        // Two sessions with one peer (each side started one) both find the same messages and both push them: a copy of a
        // message we already hold is harmless, whoever sends it.
        if (verdict == TransferVerdict.Unannounced && store.Contains(hash))
        {
            metrics.TransferRejected.Add(1, SyncMetrics.Tag("reason", "duplicate"));
            return (Outcome.Known, null);
        }
        if (verdict == TransferVerdict.AfterViolation)
        {
            // One fault, one penalty: the session these pushes belong to broke the protocol and was penalised for it.
            metrics.TransferRejected.Add(1, SyncMetrics.Tag("reason", "after_violation"));
            return (Outcome.Stopped, null);
        }
        if (verdict == TransferVerdict.Unannounced)
            return (Refuse(peer, "unannounced", PenaltyReason.UnannouncedMessage, $"message {hash} on {pubsub} was never announced (forged, altered or unsolicited)"), null);
        // The horizon of the message's own (pubsub, content) scope: a session over a whole shard spans several communities.
        if (horizon.IsEvicted(pubsub, message.ContentTopic, message.Timestamp, hash))
        {
            metrics.TransferRejected.Add(1, SyncMetrics.Tag("reason", "below_horizon"));
            return (Outcome.Refused, null);
        }
        return (Outcome.Stored, (pubsub, message, hash));
    }

    Outcome Settle(PeerId peer, string pubsub, WakuMessage message, IngressResult result)
    {
        if (!result.Accepted)
        {
            string metric = result.Rejection.ToString().ToLowerInvariant();
            switch (result.Rejection)
            {
                case IngressRejection.UnservedTopic:
                    return Refuse(peer, metric, PenaltyReason.UnservedTopic, result.Error);
                case IngressRejection.NotOptedIn or IngressRejection.NotInCommunity or IngressRejection.BelowRetentionHorizon or IngressRejection.Unauthorised:
                    // Our own opt-in or retention may have changed since the session: not the peer's fault. Nor is a message our
                    // authorship policy refuses: the peer may not apply the policy, or may hold an older or newer member list.
                    metrics.TransferRejected.Add(1, SyncMetrics.Tag("reason", metric));
                    return Outcome.Refused;
                default:
                    return Refuse(peer, metric, PenaltyReason.InvalidMessage, result.Error);
            }
        }
        if (result.Duplicate) return Outcome.Known;
        metrics.ItemsFetched.Add(1);
        try { Fetched?.Invoke(peer, pubsub, message.ContentTopic); }
        catch (Exception e) { logger.LogError(e, "A fetched-message handler threw"); }
        return Outcome.Stored;
    }

    Outcome Refuse(PeerId peer, string metricReason, PenaltyReason reason, string detail)
    {
        metrics.TransferRejected.Add(1, SyncMetrics.Tag("reason", metricReason));
        return penalties.Penalise(peer, reason, "transfer: " + detail) ? Outcome.Banned : Outcome.Refused;
    }
}
