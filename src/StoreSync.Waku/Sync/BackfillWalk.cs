using Microsoft.Extensions.Logging;
using StoreSync.Core;
using StoreSync.Libp2p.Identity;
using StoreSync.Reconciliation;
using StoreSync.Storage.Retention;

namespace StoreSync.Waku.Sync;

/// <summary>
/// The whole history of a scope under a storage limit, newest first (issue 6's backfill, spec/sync.md §5.6): windows
/// [end − 1 h, end), then each older window twice as long, down to the retention horizon; after each window the peer's pushes
/// are awaited, and the walk stops once the limit is reached (eviction raised the horizon, or a window brought messages and the
/// scope is full).
/// </summary>
/// <remarks>A scope in sync costs one round trip per window; one far behind fetches its newest history first and no more than
/// about one window beyond its limit.</remarks>
public sealed class BackfillWalk(StoreSyncClient client, SyncHorizon horizon, ILogger logger)
{
    /// <summary>The first (newest) window of a walk; each next, older window is twice as long.</summary>
    public static readonly TimeSpan FirstWindow = TimeSpan.FromHours(1);

    /// <summary>Whether the scope's whole history is walked (a storage limit bounds it) rather than reconciled in one session.</summary>
    public bool Applies(SyncScope scope) => horizon.IsLimited(scope);

    /// <summary>Walks the scope's history with <paramref name="peer"/> from <paramref name="end"/> backwards.</summary>
    /// <returns>The figures of all its sessions summed (the last one's outcome), null if none ran.</returns>
    public async Task<SyncSessionResult?> RunAsync(PeerId peer, SyncScope scope, long end, SyncModes modes, CancellationToken ct)
    {
        long start = horizon.HighestStartOf(scope), upper = end, width = FirstWindow.Ticks * 100;
        // Nothing older than the earliest plausible timestamp is ever stored (spec/message.md), so the walk's windows end there:
        // about 17 windows from today, one round trip each when in sync; the last one covers all the rest down to the horizon.
        long floor = Math.Max(start, MessageValidator.EarliestPlausibleTimestamp);
        SyncSessionResult? total = null;
        int windows = 0;
        while (upper > floor)
        {
            long lower = upper - floor <= width ? long.MinValue + 1 : upper - width;
            var result = await client.SyncAsync(peer, scope, lower, upper, modes, awaitTransfer: true, ct).ConfigureAwait(false);
            if (result is null) break;
            windows++;
            total = total is null ? result : result with
            {
                FramesSent = total.FramesSent + result.FramesSent, FramesReceived = total.FramesReceived + result.FramesReceived,
                BytesSent = total.BytesSent + result.BytesSent, BytesReceived = total.BytesReceived + result.BytesReceived,
                ToSend = total.ToSend + result.ToSend, ToReceive = total.ToReceive + result.ToReceive,
                Pushed = total.Pushed + result.Pushed, TransferBytesSent = total.TransferBytesSent + result.TransferBytesSent,
                Duration = total.Duration + result.Duration,
            };
            // nwaku mode has no history beyond its peer's range; a failed or capped window is retried by the schedule.
            if (result.Mode == SyncMode.Nwaku || !result.Completed) break;
            // Full and still fetching: eviction takes the oldest next, so older windows would only bring what goes at once. Full
            // but in sync: keep walking (cheap), a gap further back above the horizon is still wanted.
            if (horizon.HighestStartOf(scope) > start || (result.ToReceive > 0 && horizon.IsFull(scope)))
            {
                logger.LogInformation("Backfill of [{Pubsub}] × [{Content}] from {Peer} stopped at its storage limit after {Windows} windows (newest first)",
                    string.Join(", ", scope.PubsubTopics), string.Join(", ", scope.ContentTopics), peer, windows);
                break;
            }
            if (lower == long.MinValue + 1) break;
            upper = lower;
            width = width > long.MaxValue / 2 ? long.MaxValue : width * 2;
        }
        return total;
    }
}
