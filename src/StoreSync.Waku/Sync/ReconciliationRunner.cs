using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StoreSync.Core.Wire;
using StoreSync.Libp2p;
using StoreSync.Libp2p.Bandwidth;
using StoreSync.Libp2p.Host;
using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;
using StoreSync.Storage;
using StoreSync.Storage.Sync;
using StoreSync.Waku.Communities;
using StoreSync.Waku.Governor;
using StoreSync.Waku.Peers;

namespace StoreSync.Waku.Sync;

/// <summary>Drives one reconciliation session over a stream (either role, either mode) and pushes what the peer lacks.</summary>
/// <remarks>
/// Frames are length-prefixed (spec/sync.md §2.1, §3.2). Every read is bounded in size (<see cref="SyncNetworkLimits.MaxFrameBytes"/>)
/// and time (<see cref="SyncNetworkLimits.FrameTimeout"/>), the session in time (<see cref="SyncNetworkLimits.SessionTimeout"/>) and in
/// the differences it may find; the engine bounds rounds and per-frame work. A frame that breaks the protocol ends the session
/// with a reset and penalises the peer; a closed stream or a timeout just ends it.
/// </remarks>
public sealed class ReconciliationRunner(Libp2pHost host, MessageStore store, PeerPenalties penalties, SyncMetrics metrics,
    ILogger<ReconciliationRunner> logger, SyncNetworkLimits? limits = null, ICommunityPolicy? policy = null, IResourceGovernor? governor = null)
{
    // Sync is history traffic: reconciliation frames are paced by the global chains, transfer frames by their message's scope.
    readonly IResourceGovernor _governor = governor ?? UnlimitedGovernor.Instance;

    readonly SyncNetworkLimits _limits = limits ?? SyncNetworkLimits.Default;

    /// <summary>The community policy sessions obey (null: everything may be synced).</summary>
    public ICommunityPolicy? Policy => policy;

    /// <summary>The item source of an agreed scope, refused when the community policy does not let the whole scope be synced.</summary>
    public Func<SyncScope, ISyncItemSource> Sources(SyncIndexes indexes) => Sources(indexes, null);

    /// <summary>As <see cref="Sources(SyncIndexes)"/>, remembering the agreed scope in <paramref name="agreed"/> (also when refused).</summary>
    public Func<SyncScope, ISyncItemSource> Sources(SyncIndexes indexes, AgreedScope? agreed) => scope =>
    {
        if (agreed is not null) agreed.Scope = scope;
        if (policy is not null && !policy.IsSyncable(scope))
            throw new SyncScopeRefusedException($"scope [{string.Join(", ", scope.PubsubTopics)}] × [{string.Join(", ", scope.ContentTopics)}] may not be synced (community opt-in or owner's switch)");
        return indexes.SourceFor(scope);
    };

    public SyncNetworkLimits Limits => _limits;

    /// <summary>Raised when a session (either role) has ended and its pushes are written.</summary>
    public event Action<SyncSessionResult>? SessionEnded;

    public async Task<SyncSessionResult> RunAsync(Libp2pStream stream, ReconciliationSession session, SyncSessions.SessionLease lease, bool initiator, CancellationToken ct,
        AgreedScope? agreed = null)
    {
        var peer = stream.RemotePeer;
        var mode = SyncModeNames.OfProtocol(stream.Protocol);
        bool nwaku = mode == SyncMode.Nwaku;
        var modeTag = SyncMetrics.Tag("mode", mode.Name());
        long started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_limits.SessionTimeout);
        await using var sender = new TransferSender(host, store, peer, metrics, logger, _limits.MaxDifferencesPerSession, deadline.Token,
            policy is null ? null : policy.MaySync, _governor, lease);
        var io = new ThrottledStream(stream, _governor.HistoryDownload(TrafficScope.None), _governor.HistoryUpload(TrafficScope.None));
        var pushed = nwaku ? new HashSet<SyncItem>() : null;
        string? error = null;
        bool violated = false, capped = false, refused = false, protocolViolation = false;
        long bytesOut = 0, bytesIn = 0;

        async Task WriteAsync(byte[] frame)
        {
            await LengthPrefixed.WriteAsync(io, frame, deadline.Token).ConfigureAwait(false);
            bytesOut += LengthPrefixed.WireSize(frame.Length);
            metrics.Frames.Add(1, modeTag, SyncMetrics.Tag("direction", "out"));
        }

        try
        {
            if (initiator) await WriteAsync(Compute(stream.Protocol, agreed, session.Initiate)).ConfigureAwait(false);
            while (!session.IsFinished)
            {
                byte[]? frame;
                using (var frameTimeout = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token))
                {
                    frameTimeout.CancelAfter(_limits.FrameTimeout);
                    frame = await LengthPrefixed.TryReadAsync(io, _limits.MaxFrameBytes, frameTimeout.Token).ConfigureAwait(false);
                }
                if (frame is null) { error = "the peer closed the stream before the session ended"; break; }
                bytesIn += LengthPrefixed.WireSize(frame.Length);
                metrics.Frames.Add(1, modeTag, SyncMetrics.Tag("direction", "in"));
                var reply = Compute(stream.Protocol, agreed, () => session.Receive(frame));
                if (pushed is not null) PushNew(session, pushed, sender);
                if (session.ToSend.Count + session.ToReceive.Count > _limits.MaxDifferencesPerSession)
                {
                    capped = true;
                    error = $"more than {_limits.MaxDifferencesPerSession} differences; the rest waits for the next session";
                    break;
                }
                if (reply is not null) await WriteAsync(reply).ConfigureAwait(false);
            }
        }
        catch (SyncScopeRefusedException e)
        {
            refused = true;
            error = "refused: " + e.Message;
        }
        catch (SyncProtocolException e)
        {
            violated = protocolViolation = true;
            error = "protocol violation: " + e.Reason;
            penalties.Penalise(peer, PenaltyReason.ProtocolViolation, $"{mode.Name()} reconciliation: {e.Reason}");
        }
        catch (Exception e) when (e is InvalidDataException or ProtocolViolationException)
        {
            violated = true;
            error = e.Message;
            penalties.Penalise(peer, PeerPenalties.ReasonFor(e), $"{mode.Name()} reconciliation: {e.Message}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            error = deadline.IsCancellationRequested ? $"session took longer than {_limits.SessionTimeout.TotalSeconds:0} s" : $"no frame for {_limits.FrameTimeout.TotalSeconds:0} s";
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or ObjectDisposedException)
        {
            error = e.Message;
        }

        bool completed = error is null && session.IsFinished;
        // A frame the reader refuses (InvalidDataException) is penalised but has always been tagged "failed", not "violation":
        // kept so that the metric means what it meant.
        var outcome = completed ? SyncSessionOutcome.Completed : capped ? SyncSessionOutcome.Capped
            : protocolViolation ? SyncSessionOutcome.Violation : refused ? SyncSessionOutcome.Refused : SyncSessionOutcome.Failed;
        if (violated || refused || (!completed && !capped)) stream.Reset();
        else
        {
            try { await stream.CloseWriteAsync(deadline.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { }
        }

        // What we lack is pushed by the peer (and checked against this); what it lacks we push, unless it broke the protocol.
        if (violated) lease.Violated();
        if (!violated && !refused)
        {
            lease.Expect(session.ToReceive);
            if (session is NativeReconciliation native)
            {
                AllowBlind(lease, native.BlindRanges, agreed?.Scope);
                AllowBlind(lease, native.OfferRanges, agreed?.Scope);
            }
        }
        lease.Reconciled();
        if (!violated && !refused && !ct.IsCancellationRequested)
        {
            // Items our Closing entries offered whole go too, in the same newest-first batch: the peer keeps those it lacks and
            // drops the copies (spec/sync.md §3.2 rule 7).
            if (pushed is null) sender.Enqueue(session is NativeReconciliation { Offered.Count: > 0 } offering ? session.ToSend.Concat(offering.Offered) : session.ToSend);
            else PushNew(session, pushed, sender);
        }
        await sender.CompleteAsync().ConfigureAwait(false);

        var result = new SyncSessionResult
        {
            Peer = peer,
            Mode = mode,
            Protocol = stream.Protocol,
            Initiator = initiator,
            Completed = completed,
            Outcome = outcome,
            Error = error,
            DifferenceCapReached = capped,
            FramesSent = session.MessagesSent,
            FramesReceived = session.MessagesReceived,
            BytesSent = bytesOut,
            BytesReceived = bytesIn,
            ToSend = session.ToSend.Count,
            ToReceive = session.ToReceive.Count + (int)Math.Min(Unlisted(session), int.MaxValue),
            Pushed = sender.Sent,
            TransferBytesSent = sender.BytesSent,
            Duration = Stopwatch.GetElapsedTime(started),
            Scope = agreed?.Scope,
        };
        Record(result, modeTag);
        try { SessionEnded?.Invoke(result); }
        catch (Exception e) { logger.LogError(e, "A session-ended handler threw"); }
        return result;
    }

    /// <summary>Most windows one native session opens for its blind ranges; more ranges are grouped, in order, into this many.</summary>
    const int MaxBlindWindows = 64;

    static long Unlisted(ReconciliationSession session) => session is NativeReconciliation native ? native.BlindCount : 0;

    // Native mode's Missing entries tell a side that holds nothing in a range only how many messages come there, not their hashes
    // (spec/sync.md §3.2 rule 1), and after our Closing entry (rule 7) the peer pushes what we lack there unlisted, at most its
    // count: accept that many pushes in the range's time span, as nwaku mode's windows do.
    static void AllowBlind(SyncSessions.SessionLease lease, IReadOnlyList<BlindRange> blind, SyncScope? scope)
    {
        if (blind.Count == 0) return;
        int groups = Math.Min(blind.Count, MaxBlindWindows);
        for (int g = 0; g < groups; g++)
        {
            int first = (int)((long)g * blind.Count / groups), last = (int)((long)(g + 1) * blind.Count / groups) - 1;
            long count = 0;
            for (int i = first; i <= last; i++) count += blind[i].Count;
            var to = blind[last].To;
            // A bound inside a timestamp (hash bytes set) still admits that whole nanosecond.
            long end = to == SyncItem.At(to.Timestamp) || to.Timestamp == long.MaxValue ? to.Timestamp : to.Timestamp + 1;
            lease.AllowWindow(scope?.PubsubTopics, blind[first].From.Timestamp, end, count);
        }
    }

    // One frame's fingerprints and item reads share one RocksDB snapshot and iterator instead of one each (spec/sync.md §5.2).
    // Synchronous on purpose: the shared reads belong to this thread, and its CPU time is booked to the governor.
    // CPU is booked to the communities of the agreed scope once it is known and names one pubsub topic (the scheduler's
    // sessions do); before that, or over several pubsub topics, to the node only.
    T Compute<T>(string protocol, AgreedScope? agreed, Func<T> step)
    {
        using var reads = store.ShareReads();
        long cpu = ThreadCpuTime.Now();
        var result = step();
        if (cpu != 0) _governor.RecordCpu(protocol, CpuScope(agreed?.Scope), ThreadCpuTime.Now() - cpu);
        return result;
    }

    static TrafficScope CpuScope(SyncScope? scope) =>
        scope is { PubsubTopics.Count: 1 } ? new TrafficScope(scope.PubsubTopics[0], scope.ContentTopics) : TrafficScope.None;

    // nwaku accepts pushes only while its session runs, so in that mode what a frame reveals is pushed at once.
    static void PushNew(ReconciliationSession session, HashSet<SyncItem> pushed, TransferSender sender)
    {
        if (session.ToSend.Count == pushed.Count) return;
        var fresh = session.ToSend.Where(pushed.Add).ToList();
        sender.Enqueue(fresh);
    }

    void Record(SyncSessionResult r, KeyValuePair<string, object?> modeTag)
    {
        var role = SyncMetrics.Tag("role", r.Initiator ? "initiator" : "responder");
        metrics.Sessions.Add(1, modeTag, role, SyncMetrics.Tag("outcome", r.Outcome.Name()));
        metrics.Bytes.Add(r.BytesSent, SyncMetrics.Tag("protocol", "reconciliation"), SyncMetrics.Tag("direction", "out"));
        metrics.Bytes.Add(r.BytesReceived, SyncMetrics.Tag("protocol", "reconciliation"), SyncMetrics.Tag("direction", "in"));
        metrics.ItemsToFetch.Add(r.ToReceive);
        metrics.ItemsToSend.Add(r.ToSend);
        metrics.SessionDuration.Record(r.Duration.TotalSeconds, modeTag);
        if (r.Completed) metrics.RoundTrips.Record(r.RoundTrips, modeTag);
        var level = r.ToSend + r.ToReceive > 0 || !r.Completed ? LogLevel.Information : LogLevel.Debug;
        logger.Log(level, "Sync session {Result}", r);
    }
}
