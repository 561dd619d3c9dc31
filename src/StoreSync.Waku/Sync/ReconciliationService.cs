using Microsoft.Extensions.Logging;
using StoreSync.Libp2p.Host;
using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;
using StoreSync.Reconciliation.Nwaku;
using StoreSync.Storage.Retention;
using StoreSync.Storage.Sync;
using StoreSync.Waku.Peers;

namespace StoreSync.Waku.Sync;

/// <summary>Answers reconciliation sessions peers start: <c>/storesync/reconciliation/4.0.0</c>, <c>3.0.0</c> and <c>2.0.0</c> (native) and
/// <c>/vac/waku/reconciliation/1.0.0</c> (nwaku).</summary>
public sealed class ReconciliationService(SyncIndexes indexes, ReconciliationRunner runner, SyncSessions sessions, PeerPenalties penalties,
    SyncHorizon horizon, SyncMetrics metrics, ILogger<ReconciliationService> logger)
{
    public void Attach(Libp2pHost host)
    {
        foreach (var native in NativeReconciliation.ProtocolIds) host.SetStreamHandler(native, HandleAsync);
        host.SetStreamHandler(NwakuReconciliation.ProtocolId, HandleAsync);
    }

    internal async Task HandleAsync(Libp2pStream stream, CancellationToken ct)
    {
        var peer = stream.RemotePeer;
        var mode = SyncModeNames.OfProtocol(stream.Protocol);
        if (penalties.IsBanned(peer)) { stream.Reset(); return; }
        if (sessions.IsHeld(peer))
        {
            metrics.Sessions.Add(1, SyncMetrics.Tag("mode", mode.Name()), SyncMetrics.Tag("role", "responder"), SyncMetrics.Tag("outcome", SyncSessionOutcome.Refused.Name()));
            logger.LogInformation("Declining a reconciliation session from {Peer}: a swarm backfill fetches from it now", peer);
            stream.Reset();
            return;
        }
        using var lease = sessions.TryBegin(peer, inbound: true);
        if (lease is null)
        {
            metrics.Sessions.Add(1, SyncMetrics.Tag("mode", mode.Name()), SyncMetrics.Tag("role", "responder"), SyncMetrics.Tag("outcome", SyncSessionOutcome.Refused.Name()));
            logger.LogInformation("Refusing a reconciliation session from {Peer}: too many sessions already", peer);
            stream.Reset();
            return;
        }
        ReconciliationSession session;
        var agreed = new AgreedScope();
        if (mode == SyncMode.Native)
        {
            // Our horizon is that of the scope the peer's Open agrees on (not of everything we serve): spec/sync.md §4.
            session = new NativeReconciliation(indexes.LocalScope, runner.Sources(indexes, agreed))
            {
                HorizonOf = horizon.StartOf,
                ProtocolVersion = NativeReconciliation.VersionOf(stream.Protocol)!.Value,
            };
        }
        else
        {
            session = new NwakuReconciliation(indexes.LocalScope, runner.Sources(indexes, agreed));
            // In nwaku mode the side with nothing in a range is never told what it will receive: accept the peer's pushes in
            // our topics while the session runs (and briefly after), not only the announced ones.
            lease.AllowWindow(indexes.PubsubTopics, long.MinValue, long.MaxValue);
        }
        await runner.RunAsync(stream, session, lease, initiator: false, ct, agreed).ConfigureAwait(false);
    }
}
