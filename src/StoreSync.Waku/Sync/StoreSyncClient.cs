using StoreSync.Libp2p.Host;
using StoreSync.Libp2p.Identity;
using StoreSync.Reconciliation;
using StoreSync.Reconciliation.Native;
using StoreSync.Reconciliation.Nwaku;
using StoreSync.Storage.Retention;
using StoreSync.Storage.Sync;

namespace StoreSync.Waku.Sync;

/// <summary>Which reconciliation protocols an initiator may propose.</summary>
[Flags]
public enum SyncModes
{
    Native = 1,
    Nwaku = 2,
    /// <summary>Native first, nwaku if the peer does not speak native (multistream-select on one stream).</summary>
    Any = Native | Nwaku,
}

/// <summary>Starts reconciliation sessions with a peer (native proposed first, nwaku as the fallback) and runs them to the end, transfers included.</summary>
/// <remarks>With the <paramref name="transfer"/> service, a caller that awaits the peer's pushes also waits until the receiver has
/// written them (it stores them in batches a little after they arrive), so it sees the store after them.</remarks>
public sealed class StoreSyncClient(Libp2pHost host, SyncIndexes indexes, ReconciliationRunner runner, SyncSessions sessions, SyncHorizon horizon,
    TransferService? transfer = null)
{
    /// <summary>Reconciles <paramref name="scope"/> over [start, end) with <paramref name="peer"/>, starting no earlier than the scope's retention horizon.</summary>
    /// <returns>The session's figures; null when a session with that peer could not start (too many running, or nothing to reconcile).</returns>
    /// <exception cref="IOException">The peer could not be reached.</exception>
    /// <exception cref="Libp2p.Multistream.MultistreamException">The peer speaks none of the proposed protocols.</exception>
    public Task<SyncSessionResult?> SyncAsync(PeerId peer, SyncScope scope, long start, long end, SyncModes modes, CancellationToken ct) =>
        SyncAsync(peer, scope, start, end, modes, awaitTransfer: false, ct);

    /// <summary>How long <see cref="SyncAsync(PeerId, SyncScope, long, long, SyncModes, bool, CancellationToken)"/> waits for the
    /// next pushed message before it stops waiting for the rest.</summary>
    public static readonly TimeSpan TransferQuiet = TimeSpan.FromSeconds(30);

    /// <summary>As the other overload; with <paramref name="awaitTransfer"/> it returns only once the peer has pushed what the
    /// session found missing here (or nothing came for <see cref="TransferQuiet"/>), so the caller sees the store after it
    /// (backfill walks one time window at a time).</summary>
    public Task<SyncSessionResult?> SyncAsync(PeerId peer, SyncScope scope, long start, long end, SyncModes modes, bool awaitTransfer, CancellationToken ct) =>
        SyncAsync(peer, scope, start, end, modes, awaitTransfer ? TransferQuiet : null, ct);

    /// <summary>As the other overloads; with <paramref name="awaitQuiet"/> it waits for the peer's pushes until they stop for
    /// that long (<see cref="SyncSessionResult.TransferArrived"/> says whether all came).</summary>
    public async Task<SyncSessionResult?> SyncAsync(PeerId peer, SyncScope scope, long start, long end, SyncModes modes, TimeSpan? awaitQuiet, CancellationToken ct)
    {
        long from = Math.Max(start, horizon.StartOf(scope));
        if (from >= end) return null;
        if (runner.Policy is { } policy && !policy.IsSyncable(scope)) return null;
        using var lease = sessions.TryBegin(peer, inbound: false);
        if (lease is null) return null;
        string[] protocols = modes switch
        {
            SyncModes.Native => [.. NativeReconciliation.ProtocolIds],
            SyncModes.Nwaku => [NwakuReconciliation.ProtocolId],
            _ => [.. NativeReconciliation.ProtocolIds, NwakuReconciliation.ProtocolId],
        };
        var stream = await host.NewStreamAsync(peer, protocols, ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            ReconciliationSession session;
            var agreed = new AgreedScope();
            if (SyncModeNames.OfProtocol(stream.Protocol) == SyncMode.Native)
            {
                session = new NativeReconciliation(scope, runner.Sources(indexes, agreed), from, end, horizon.StartOf(scope))
                {
                    ProtocolVersion = NativeReconciliation.VersionOf(stream.Protocol)!.Value,
                };
            }
            else
            {
                session = new NwakuReconciliation(scope, runner.Sources(indexes, agreed), from, end);
                lease.AllowWindow(scope.PubsubTopics, from, end);
            }
            var result = await runner.RunAsync(stream, session, lease, initiator: true, ct, agreed).ConfigureAwait(false);
            if (awaitQuiet is { } quiet && (result.Completed || result.DifferenceCapReached) && result.ToReceive > 0)
            {
                bool arrived = await lease.WaitDeliveredAsync(result.ToReceive, quiet, ct).ConfigureAwait(false);
                if (transfer is not null) arrived &= await transfer.WhenStoredAsync(peer, quiet, ct).ConfigureAwait(false);
                result = result with { TransferArrived = arrived };
            }
            return result;
        }
    }
}
