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

    public void Attach(Libp2pHost host) => host.SetStreamHandler(TransferProtocol.ProtocolId, HandleAsync);

    internal async Task HandleAsync(Libp2pStream stream, CancellationToken ct)
    {
        var peer = stream.RemotePeer;
        if (penalties.IsBanned(peer)) { stream.Reset(); return; }
        if (!sessions.TryOpenTransfer(peer))
        {
            logger.LogInformation("Refusing a transfer stream from {Peer}: {Max} already open", peer, _limits.MaxTransferStreamsPerPeer);
            stream.Reset();
            return;
        }
        int received = 0, stored = 0;
        long bytes = 0;
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
                        return;
                    }
                }
                if (frame is null) break;
                received++;
                int wire = LengthPrefixed.WireSize(frame.Length);
                bytes += wire;
                metrics.Bytes.Add(wire, SyncMetrics.Tag("protocol", "transfer"), SyncMetrics.Tag("direction", "in"));
                long cpu = ThreadCpuTime.Now();
                var receiving = ReceiveAsync(peer, frame, ct);
                // Only a receive that finished on this thread can be measured by the thread clock (the rare wait for a session is not).
                if (receiving.IsCompleted && cpu != 0) _governor.RecordCpu(TransferProtocol.ProtocolId, ScopeOf(frame), ThreadCpuTime.Now() - cpu);
                var outcome = await receiving.ConfigureAwait(false);
                // History download: holding the next read until the bytes are paid for closes the yamux window on the sender.
                await _governor.HistoryDownload(ScopeOf(frame)).WaitAsync(wire, ct).ConfigureAwait(false);
                if (outcome == Outcome.Stored && ++stored % ProgressEvery == 0)
                    logger.LogInformation("Transfer from {Peer}: {Stored} messages fetched so far ({Received} received, {Bytes} B)", peer, stored, received, bytes);
                if (outcome == Outcome.Banned) { stream.Reset(); return; }
            }
        }
        finally
        {
            sessions.CloseTransfer(peer);
            if (received > 0)
                logger.Log(stored > 0 ? LogLevel.Information : LogLevel.Debug, "Transfer from {Peer}: {Stored} messages fetched ({Received} received, {Bytes} B)",
                    peer, stored, received, bytes);
        }
    }

    static TrafficScope ScopeOf(byte[] frame)
    {
        try
        {
            var (pubsub, message) = TransferProtocol.Decode(frame);
            return TrafficScope.Of(pubsub, message.ContentTopic);
        }
        catch (InvalidDataException) { return TrafficScope.None; }
    }

    enum Outcome { Stored, Known, Refused, Banned }

    async Task<Outcome> ReceiveAsync(PeerId peer, byte[] frame, CancellationToken ct)
    {
        string pubsub;
        WakuMessage message;
        try { (pubsub, message) = TransferProtocol.Decode(frame); }
        catch (InvalidDataException e) { return Refuse(peer, "malformed", PenaltyReason.MalformedFrame, e.Message); }

        var hash = MessageHash.Compute(pubsub, message);
        var verdict = sessions.Check(peer, pubsub, hash, message.Timestamp);
        if (verdict == TransferVerdict.Unannounced && sessions.ActiveSessions(peer) > 0)
        {
            await sessions.WaitIdleAsync(peer, _limits.UnannouncedWait, ct).ConfigureAwait(false);
            verdict = sessions.Check(peer, pubsub, hash, message.Timestamp);
        }
        // Two sessions with one peer (each side started one) both find the same messages and both push them: a copy of a
        // message we already hold is harmless, whoever sends it.
        if (verdict == TransferVerdict.Unannounced && store.Contains(hash))
        {
            metrics.TransferRejected.Add(1, SyncMetrics.Tag("reason", "duplicate"));
            return Outcome.Known;
        }
        if (verdict == TransferVerdict.Unannounced)
            return Refuse(peer, "unannounced", PenaltyReason.UnannouncedMessage, $"message {hash} on {pubsub} was never announced (forged, altered or unsolicited)");
        // The horizon of the message's own (pubsub, content) scope: a session over a whole shard spans several communities.
        if (horizon.IsEvicted(pubsub, message.ContentTopic, message.Timestamp, hash))
        {
            metrics.TransferRejected.Add(1, SyncMetrics.Tag("reason", "below_horizon"));
            return Outcome.Refused;
        }
        var result = ingress.Accept(pubsub, message, hash, "sync transfer from " + peer);
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
